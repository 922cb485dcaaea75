// Progressive touches for every form; each page works fully without this file.
// - Password inputs get a "Show password" toggle (labels come from the page, so they are translated).
// - A submitted form is marked pending: its button says so and a second click does not resubmit.
//   The button is not `disabled`, because a disabled button's name/value would not be sent.
// - After a failed submit, focus moves to the error summary so it is read first and its links work.
(() => {
  function addPasswordToggle(input) {
    const show = input.dataset.showLabel;
    const hide = input.dataset.hideLabel;
    if (!show || !hide) return;
    const wrap = document.createElement('div');
    wrap.className = 'password-wrap';
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'password-toggle';
    button.textContent = show;
    button.setAttribute('aria-pressed', 'false');
    button.setAttribute('aria-controls', input.id);
    button.addEventListener('click', () => {
      const visible = input.type === 'password';
      input.type = visible ? 'text' : 'password';
      button.textContent = visible ? hide : show;
      button.setAttribute('aria-pressed', String(visible));
    });
    wrap.appendChild(button);
  }

  function markPending(form) {
    form.addEventListener('submit', (event) => {
      if (form.dataset.pending === 'true') {
        event.preventDefault();
        return;
      }
      form.dataset.pending = 'true';
      const button = event.submitter || form.querySelector('button[type="submit"]');
      if (!button) return;
      button.setAttribute('aria-disabled', 'true');
      if (button.dataset.pendingLabel) {
        button.dataset.label = button.textContent;
        button.textContent = button.dataset.pendingLabel;
      }
      // Passwords are not left readable on a page the browser may keep in its history.
      form.querySelectorAll('input[data-show-label]').forEach((input) => {
        input.type = 'password';
      });
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    document.querySelectorAll('input[type="password"][data-show-label]').forEach(addPasswordToggle);
    document.querySelectorAll('form[method="post"]').forEach(markPending);
    const summary = document.querySelector('.error-summary');
    if (summary) summary.focus();
  });
  // A page restored from the back/forward cache must be usable again.
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    document.querySelectorAll('form[data-pending]').forEach((form) => {
      delete form.dataset.pending;
    });
    document.querySelectorAll('button[aria-disabled="true"]').forEach((button) => {
      button.removeAttribute('aria-disabled');
      if (button.dataset.label) button.textContent = button.dataset.label;
    });
  });
})();
