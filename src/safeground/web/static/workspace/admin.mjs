// The administration page's changes, sent to /workspace/admin/users… with the CSRF header; the page
// is read again after each, so what it shows is what the store holds (and the audit entry it made).
import { postJSON, showError, clearErrors } from "/static/workspace/common.mjs";

async function change(path, body, control) {
  clearErrors();
  if (control) control.disabled = true;
  try {
    await postJSON(path, body);
    location.reload();
  } catch (err) {
    showError(err);
    if (control) control.disabled = false;
  }
}

for (const select of document.querySelectorAll("[data-role-of]")) {
  select.addEventListener("change", () =>
    change(`/workspace/admin/users/${encodeURIComponent(select.dataset.roleOf)}/role`, { role: select.value }, select));
}
for (const b of document.querySelectorAll("[data-disable], [data-enable]")) {
  b.addEventListener("click", () => {
    const user = b.dataset.disable || b.dataset.enable;
    change(`/workspace/admin/users/${encodeURIComponent(user)}/active`, { active: Boolean(b.dataset.enable) }, b);
  });
}
document.getElementById("sg-add-user")?.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  const body = Object.fromEntries(new FormData(f).entries());
  change("/workspace/admin/users", body, f.querySelector("button[type=submit]"));
});
