// Loaded only when the sign-out request carried a verified id_token_hint: confirm on the person's
// behalf. Without JavaScript the page keeps its "Sign out" button.
document.addEventListener('DOMContentLoaded', () => {
  const button = document.querySelector('button[name="logout"][value="yes"]');
  if (button) button.click();
});
