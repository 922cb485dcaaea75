// The token debugger's copy buttons (views/demo/*.pug): each copies the text of the block it names.
// Without JavaScript the buttons stay hidden and the text can be selected by hand.
(() => {
  for (const button of document.querySelectorAll('button[data-copy]')) {
    const target = document.getElementById(button.dataset.copy);
    if (!target || !navigator.clipboard) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(target.textContent);
        button.textContent = button.dataset.copiedLabel || label;
        setTimeout(() => {
          button.textContent = label;
        }, 2000);
      } catch {
        // Clipboard refused (an insecure origin, a denied permission): select the text instead.
        window.getSelection()?.selectAllChildren(target);
      }
    });
  }
})();
