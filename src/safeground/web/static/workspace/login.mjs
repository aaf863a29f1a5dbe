// The login page: POST /login (JSON) by fetch, keep the CSRF token, go where the reader was going.
import { api, keepCsrfToken, showError, clearErrors, t } from "/static/workspace/common.mjs";

const form = document.getElementById("sg-login-form");
const button = document.getElementById("sg-login-submit");

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  clearErrors();
  const username = form.username.value.trim();
  const password = form.password.value;
  button.disabled = true;
  const label = button.textContent;
  button.textContent = t("login_busy");
  try {
    const me = await api("/login", { method: "POST", body: { username, password } });
    keepCsrfToken(me.csrf);
    location.href = form.dataset.next || "/workspace";
  } catch (e) {
    showError(e.status === 401 ? { message: t("login_failed"), hint: null } : e);
    form.password.value = "";
    form.password.focus();
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
});
document.getElementById("sg-username").focus();
