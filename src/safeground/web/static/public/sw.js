// The returnee page's service worker: after one visit with signal, the page, its scripts and the
// district's bundle (danger areas, route network, rules) come from the phone when there is none.
// Network first, so the page and the hazard information refresh whenever the signal is back.
const CACHE = "safeground-public-v1";
const SHELL = [
  "/safe/",
  "/safe/assets/safe.mjs",
  "/safe/assets/engine.mjs",
  "/safe/assets/safe.css",
  "/safe/assets/icon-192.png",
  "/safe/assets/icon-512.png",
  "/safe/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("safeground-public-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function key(request) {
  const url = new URL(request.url);
  return url.pathname === "/safe/" ? "/safe/" : url.pathname + url.search;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/safe/api/")) return; // live answers only: offline, the page computes them itself
  if (!url.pathname.startsWith("/safe/")) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok && response.status === 200) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((c) => c.put(key(request), copy)));
        }
        return response;
      })
      .catch(() => caches.open(CACHE).then((c) => c.match(key(request))).then((hit) => hit || Response.error())),
  );
});
