// Passkeys (WebAuthn) for the forms of views/mixins/passkeys.pug, with @simplewebauthn/browser
// (served by this server as /assets/vendor/simplewebauthn-browser.js). The ceremony's options come
// from the form's options URL (a POST carrying the form's CSRF token); the browser's answer is then
// sent with the form itself, an ordinary POST, so the server answers with a page or a redirect.
// Browsers without WebAuthn keep the forms hidden, and every page works without this file.
(() => {
  const lib = window.SimpleWebAuthnBrowser;

  async function fetchOptions(form) {
    const body = new URLSearchParams({ csrf: form.elements.csrf.value });
    const response = await fetch(form.dataset.optionsUrl, { method: 'POST', body, credentials: 'same-origin' });
    if (!response.ok) throw new Error(`options: ${response.status}`);
    return response.json();
  }

  function showError(form) {
    const error = form.querySelector('[data-passkey-error]');
    if (!error) return;
    error.textContent = form.dataset.errorMessage;
    error.hidden = false;
    error.setAttribute('role', 'alert');
  }

  function send(form, answer) {
    form.elements.response.value = JSON.stringify(answer);
    const remember = document.getElementById('remember');
    if (remember && form.elements.remember) form.elements.remember.value = remember.checked ? 'on' : '';
    form.submit();
  }

  async function signIn(form, useBrowserAutofill) {
    const optionsJSON = await fetchOptions(form);
    send(form, await lib.startAuthentication({ optionsJSON, useBrowserAutofill }));
  }

  async function register(form) {
    const optionsJSON = await fetchOptions(form);
    send(form, await lib.startRegistration({ optionsJSON }));
  }

  function start(form, ceremony) {
    const button = form.querySelector('[data-passkey-start]');
    button.addEventListener('click', () => {
      button.setAttribute('aria-disabled', 'true');
      ceremony(form).catch(() => {
        button.removeAttribute('aria-disabled');
        showError(form);
      });
    });
  }

  document.addEventListener('DOMContentLoaded', async () => {
    if (!lib?.browserSupportsWebAuthn()) return;
    // Tells the sign-in and registration forms this browser can make a passkey, so one may be offered.
    if (await lib.platformAuthenticatorIsAvailable()) {
      for (const input of document.querySelectorAll('input[name="webauthn"]')) input.value = '1';
    }
    for (const form of document.querySelectorAll('form[data-passkey]')) {
      form.hidden = false;
      start(form, form.dataset.passkey === 'register' ? register : (target) => signIn(target, false));
    }
    // Passkeys offered in the username field's autofill (conditional mediation). A click on the
    // button above starts a new request, which cancels this one: that rejection is expected.
    const autofill = document.querySelector('form[data-passkey="signin"][data-autofill]');
    if (autofill && (await lib.browserSupportsWebAuthnAutofill())) signIn(autofill, true).catch(() => undefined);
  });
})();
