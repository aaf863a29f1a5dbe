// The administration page's changes, sent to /workspace/admin/users… with the CSRF header; the page
// is read again after each, so what it shows is what the store holds (and the audit entry it made).
import { postJSON, showError, clearErrors, showMadeToken } from "/static/workspace/common.mjs";

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
for (const select of document.querySelectorAll("[data-org-of]")) {
  select.addEventListener("change", () =>
    change(`/workspace/admin/users/${encodeURIComponent(select.dataset.orgOf)}/organisation`,
           { organisation: select.value }, select));
}
for (const b of document.querySelectorAll("[data-save-org]")) {
  b.addEventListener("click", () => {
    const row = b.closest("tr");
    const field = (name) => row.querySelector(`[data-org-field="${name}"]`);
    change(`/workspace/admin/organisations/${encodeURIComponent(b.dataset.saveOrg)}`, {
      name: field("name").value, acronym: field("acronym").value || null, org_type: field("org_type").value,
      accredited: field("accredited").checked, version: Number(row.dataset.version),
    }, b);
  });
}
document.getElementById("sg-add-org")?.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const f = ev.currentTarget;
  const body = Object.fromEntries(new FormData(f).entries());
  if (!body.acronym) body.acronym = null;
  change("/workspace/admin/organisations", body, f.querySelector("button[type=submit]"));
});
// every user's tokens: the administrator revokes any of them
for (const b of document.querySelectorAll("#sg-tokens [data-revoke]")) {
  b.addEventListener("click", () =>
    change(`/workspace/admin/tokens/${encodeURIComponent(b.dataset.revoke)}/revoke`, {}, b));
}
// a token for another user (a KoboToolbox server, a shared tablet): its secret is shown once, here; the role
// list offers only what the chosen user's own role permits (the server refuses more in any case)
const tokenForm = document.getElementById("sg-admin-token");
function offerRoles() {
  const picked = tokenForm.elements.username.selectedOptions[0];
  const allowed = new Set((picked?.dataset.roles || "").split(" "));
  for (const o of tokenForm.elements.role.options) o.disabled = o.value !== "" && !allowed.has(o.value);
  if (tokenForm.elements.role.selectedOptions[0]?.disabled) tokenForm.elements.role.value = "";
}
if (tokenForm) {
  tokenForm.elements.username.addEventListener("change", offerRoles);
  offerRoles();
  tokenForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const f = tokenForm;
    const button = f.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const done = await postJSON(`/workspace/admin/users/${encodeURIComponent(f.elements.username.value)}/tokens`, {
        label: f.elements.label.value, days: Number(f.elements.days.value), role: f.elements.role.value || null,
      });
      showMadeToken(done);
    } catch (err) {
      showError(err);
    } finally {
      button.disabled = false;
    }
  });
}
