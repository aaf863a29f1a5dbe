// The workspace's shared helpers: the interface text, fetch with the CSRF header, one error display.
//
// Every page loads this module (base.html.j2). A request that changes data carries X-CSRF-Token, read
// from the sg_csrf cookie the login set (or the copy kept after POST /login); the server refuses a
// change without it. Errors from the server have one shape ({code, status, message, hint}) and are
// shown the same way everywhere: what went wrong and what to do.

const I18N = (() => {
  const el = document.getElementById("sg-i18n");
  try { return el ? JSON.parse(el.textContent) : {}; } catch { return {}; }
})();

/** The interface text of `key` in the page's language, with {name} filled from `values`. */
export function t(key, values = {}) {
  const text = I18N[key] ?? key;
  return String(text).replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
}

export const CSRF_HEADER = "X-CSRF-Token";

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return null;
}

/** The CSRF token of this session (the login returned it and set the sg_csrf cookie). */
export function csrfToken() {
  return cookie("sg_csrf") || sessionStorage.getItem("sg_csrf") || "";
}

export function keepCsrfToken(token) {
  if (token) sessionStorage.setItem("sg_csrf", token);
}

/** An error answered by the server (or the network), with its message and what to do. */
export class ApiError extends Error {
  constructor(body, status) {
    super(body?.message || t("error"));
    this.code = body?.code || "error";
    this.status = status ?? body?.status ?? 0;
    this.hint = body?.hint || null;
  }
}

/** fetch() on this server: JSON in and out, the CSRF header on a change, the error shape thrown as ApiError. */
export async function api(path, { method = "GET", body, headers = {}, accept = "application/json" } = {}) {
  const h = { Accept: accept, ...headers };
  if (!["GET", "HEAD", "OPTIONS"].includes(method.toUpperCase())) h[CSRF_HEADER] = csrfToken();
  let payload;
  if (body !== undefined) {
    if (body instanceof FormData || typeof body === "string") payload = body;
    else { payload = JSON.stringify(body); h["Content-Type"] = "application/json"; }
  }
  let r;
  try {
    r = await fetch(path, { method, headers: h, body: payload, credentials: "same-origin" });
  } catch {
    throw new ApiError({ code: "network", message: t("error_network") }, 0);
  }
  const type = r.headers.get("content-type") || "";
  const data = type.includes("json") ? await r.json().catch(() => null) : await r.text();
  if (!r.ok) {
    if (r.status === 401 && !path.startsWith("/login")) {
      throw new ApiError({ code: "not_logged_in", message: t("error_session"),
                           hint: data?.hint || t("login") }, 401);
    }
    throw new ApiError(typeof data === "object" && data ? data : { message: String(data || r.statusText) }, r.status);
  }
  return data;
}

export const getJSON = (path) => api(path);
export const postJSON = (path, body) => api(path, { method: "POST", body });
export const putJSON = (path, body) => api(path, { method: "PUT", body });

/** Show an error (an ApiError, an Error or a text) in the page's alert region, with what to do. */
export function showError(err, where = document.getElementById("sg-errors")) {
  if (!where) { console.error(err); return; }
  const box = document.createElement("div");
  box.className = "sg-error";
  const msg = document.createElement("p");
  msg.className = "sg-error-message";
  msg.textContent = `${t("error")}: ${err?.message || String(err)}`;
  box.append(msg);
  if (err?.hint) {
    const hint = document.createElement("p");
    hint.className = "sg-error-hint";
    hint.textContent = `${t("what_to_do")}: ${err.hint}`;
    box.append(hint);
  }
  if (err?.status === 401) {
    const a = document.createElement("a");
    a.href = "/workspace/login?next=" + encodeURIComponent(location.pathname + location.search);
    a.textContent = t("login");
    a.className = "sg-button";
    box.append(a);
  }
  const close = document.createElement("button");
  close.type = "button";
  close.className = "sg-button sg-quiet";
  close.textContent = t("close");
  close.addEventListener("click", () => box.remove());
  box.append(close);
  where.append(box);
  return box;
}

export function clearErrors(where = document.getElementById("sg-errors")) {
  if (where) where.replaceChildren();
}

/** Make an element: el("a", {href: "/x", class: "y"}, "text", child…). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

// the header's logout button, on every page
const logout = document.getElementById("sg-logout");
if (logout && !logout.dataset.bound) {
  logout.dataset.bound = "1";
  logout.addEventListener("click", async () => {
    try { await postJSON("/logout"); } catch (e) { if (e.status !== 401) { showError(e); return; } }
    sessionStorage.removeItem("sg_csrf");
    location.href = "/workspace/login";
  });
}

/** Show, once, the secret of a token just made (token_secret.html.j2): for whom, with which role, until when. */
export function showMadeToken(done) {
  const box = document.getElementById("sg-token-made");
  const what = document.getElementById("sg-token-what");
  document.getElementById("sg-token-secret").textContent = done.token;
  const until = done.expires_at ? `${done.expires_at.slice(0, 16).replace("T", " ")} UTC` : what.dataset.never;
  const role = done.role ? t(`role_${done.role}`) : "";
  what.textContent = what.dataset.for.replace("{user}", done.user).replace("{role}", role).replace("{until}", until);
  box.dataset.prefix = done.prefix;
  box.hidden = false;
  // the secret leaves the page when the person says they copied it (the list then shows the new token)
  document.getElementById("sg-token-done").onclick = () => location.reload();
}
