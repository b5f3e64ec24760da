// The dashboard: reads the /v1 API of the node that served it and draws the page named by the
// URL's hash again whenever the node's event stream (/v1/events) says something changed.
// Text from the mesh is only ever set as text, never parsed as HTML.

const STATES = {
  ok: { symbol: "✓", word: "ok" },
  failed: { symbol: "✗", word: "failed" },
  pending: { symbol: "…", word: "pending" },
  drift: { symbol: "↻", word: "drift repaired" },
  rejected: { symbol: "⊘", word: "rejected" },
  none: { symbol: "–", word: "not targeted" },
};
const EVENT_KINDS = ["report", "drift", "revision", "member", "unreachable", "reachable"];
const FEED_LENGTH = 200;

const page = document.getElementById("page");
const feed = []; // newest first, since this page was opened
let drawing = 0; // the latest draw; an older one that finishes late is dropped

// ---- small helpers -------------------------------------------------------------------------

/** An element with attributes (class, data-*, aria-*, ...) and children (elements or text). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  if (!response.ok) {
    let message = response.statusText;
    try { message = (await response.json()).error; } catch { /* not an ApiError */ }
    throw new Error(`${response.status} ${message}`);
  }
  return response.json();
}

function age(time) {
  if (!time) return "never";
  const seconds = Math.max(0, Math.round((Date.now() - new Date(time).getTime()) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

/** An age that stays current: the ticker below rewrites every [data-since] once a second. */
function since(time) {
  return el("time", { datetime: time || undefined, "data-since": time || "", title: time ? new Date(time).toLocaleString() : undefined }, age(time));
}

function stateOf(entry) {
  if (!entry) return "none";
  return entry.state === "ok" && entry.report?.drift ? "drift" : entry.state;
}

function stateLabel(state, extra = {}) {
  const s = STATES[state] ?? { symbol: "?", word: state };
  return el("span", { class: `state ${state in STATES ? state : ""}`, "data-state": state, ...extra }, `${s.symbol} ${s.word}`);
}

function tags(values) {
  return values.length ? values.map(v => el("span", { class: "tag" }, v)) : el("span", { class: "muted" }, "—");
}

function labelsOf(labels) {
  return Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
}

function targetText(target) {
  const parts = [];
  if (target?.roles?.length) parts.push(`roles=${target.roles.join(",")}`);
  const labels = labelsOf(target?.labels);
  if (labels.length) parts.push(`labels=${labels.join(",")}`);
  if (target?.nodes?.length) parts.push(`nodes=${target.nodes.join(",")}`);
  return parts.length ? parts.join(" ") : "all";
}

function manifestLink(name) {
  return el("a", { href: `#/manifest/${encodeURIComponent(name)}` }, name);
}

function table(headers, rows, attributes = {}) {
  return el("div", { class: "scroll" },
    el("table", attributes,
      el("thead", {}, el("tr", {}, headers.map(h => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows)));
}

/** A failure or rejection, or a pending report of the head: the node says why (still getting the body from …). */
function hasReason(entry) {
  return entry.state === "failed" || entry.state === "rejected" ||
    (entry.state === "pending" && entry.report?.outcome === "pending" && entry.report.version === entry.head?.version);
}

function failureText(report) {
  return report?.error || "no error text (see mesh status)";
}

// ---- pages ---------------------------------------------------------------------------------

/** Fleet: every member with its status, reachability, roles, labels, and how its manifests stand. */
async function fleetPage() {
  const [members, status] = await Promise.all([api("/v1/members"), api("/v1/status")]);
  const byNode = new Map();
  for (const s of status.manifests) byNode.set(s.node, [...(byNode.get(s.node) ?? []), s]);
  const rows = members.map(m => {
    const entries = byNode.get(m.name) ?? [];
    const counts = Object.keys(STATES).filter(s => s !== "none")
      .map(s => [s, entries.filter(e => stateOf(e) === s).length]).filter(([, n]) => n > 0);
    const last = entries.map(e => e.report?.time).filter(Boolean).sort().at(-1);
    return el("tr", { "data-node": m.name },
      el("th", { scope: "row" }, m.name, m.self ? el("span", { class: "muted" }, " (this node)") : null),
      el("td", { class: "nowrap" }, m.status),
      el("td", {}, el("span", { class: `state ${m.reachable ? "ok" : "failed"}`, "data-state": m.reachable ? "reachable" : "unreachable" },
        m.reachable ? "✓ reachable" : "✗ unreachable")),
      el("td", {}, tags(m.roles)),
      el("td", {}, tags(labelsOf(m.labels))),
      el("td", {}, counts.length ? counts.map(([s, n]) => el("span", { class: "tag" }, stateLabel(s), ` ${n}`)) : el("span", { class: "muted" }, "none")),
      el("td", { class: "nowrap" }, since(last)),
      el("td", { class: "mono nowrap" }, m.address));
  });
  return [
    el("h1", {}, "Fleet"),
    el("p", { class: "muted" }, `${members.length} member(s), as node ${status.node} sees them.`),
    table(["Node", "Status", "Reachable", "Roles", "Labels", "Manifests", "Last report", "Address"], rows, { id: "fleet" }),
  ];
}

/** Manifests: every head, the node × manifest matrix, and every failure with its error. */
async function manifestsPage() {
  const [manifests, status, members] = await Promise.all([api("/v1/manifests"), api("/v1/status"), api("/v1/members")]);
  const names = manifests.map(m => m.revision.manifest);
  const nodes = [...new Set([...members.map(m => m.name), ...status.manifests.map(s => s.node)])].sort();
  const cell = new Map(status.manifests.map(s => [`${s.node}\u0000${s.manifest}`, s]));

  const list = table(["Manifest", "Head", "Pushed", "By", "Message", "Targets"], manifests.map(({ revision: r, targets }) =>
    el("tr", { "data-manifest": r.manifest },
      el("th", { scope: "row" }, manifestLink(r.manifest)),
      el("td", { class: "mono nowrap" }, r.version),
      el("td", { class: "nowrap" }, since(r.time)),
      el("td", { class: "nowrap" }, `${r.author} via ${r.origin}`),
      el("td", { class: "wrap" }, r.message || el("span", { class: "muted" }, "—")),
      el("td", {}, el("div", { class: "muted" }, targetText(r.target)), tags(targets)))), { id: "manifests" });

  const matrix = table(["Node", ...names.map(manifestLink)], nodes.map(node =>
    el("tr", { "data-node": node },
      el("th", { scope: "row" }, node),
      names.map(name => {
        const entry = cell.get(`${node}\u0000${name}`);
        const state = stateOf(entry);
        const title = entry ? `${name} on ${node}: ${STATES[state]?.word ?? state}` +
          (entry.report ? ` (${entry.report.version}${hasReason(entry) ? `: ${failureText(entry.report)}` : ""})` : "") : `${name} does not target ${node}`;
        return el("td", { "data-node": node, "data-manifest": name, "data-state": state, title }, stateLabel(state));
      }))), { id: "matrix", "aria-label": "Where every node stands with every manifest" });

  const failures = status.manifests.filter(s => s.state === "failed" || s.state === "rejected");
  const lost = status.lostWrites ?? [];
  return [
    el("h1", {}, "Manifests"),
    names.length ? list : el("p", { class: "muted" }, "No manifests yet: mesh push FILE."),
    el("h2", {}, "Node × manifest"),
    el("div", { class: "legend", "aria-hidden": "true" }, Object.keys(STATES).map(s => stateLabel(s))),
    names.length ? matrix : el("p", { class: "muted" }, "Nothing to show."),
    el("h2", {}, `Failures (${failures.length})`),
    failures.length ? el("div", { id: "failures" }, failures.map(f =>
      el("div", { class: "failure", "data-node": f.node, "data-manifest": f.manifest },
        el("div", {}, stateLabel(f.state), " ", el("strong", {}, f.node), " · ", manifestLink(f.manifest), " ",
          el("span", { class: "mono" }, f.report?.version ?? ""), " · ", since(f.report?.time)),
        el("pre", {}, failureText(f.report)))))
      : el("p", { class: "muted", id: "failures" }, "None."),
    lost.length ? [el("h2", {}, `Lost writes (${lost.length})`), el("ul", {}, lost.map(l =>
      el("li", {}, manifestLink(l.manifest), ` ${l.revision.version} by ${l.revision.author} was overwritten by ${l.winner.version} (a concurrent push); see mesh status`)))] : null,
  ];
}

/** One manifest: head, where each node stands, its history, and the diff between any two revisions. */
async function manifestPage(name, query) {
  const [history, status, manifests] = await Promise.all([
    api(`/v1/manifests/${encodeURIComponent(name)}/history`),
    api(`/v1/status?manifest=${encodeURIComponent(name)}`),
    api("/v1/manifests"),
  ]);
  const head = history.find(h => h.head)?.revision ?? history[0].revision;
  const summary = manifests.find(m => m.revision.manifest === name);
  const withContent = history.filter(h => !h.revision.deleted);
  const to = query.get("to") ?? withContent[0]?.revision.version;
  const from = query.get("from") ?? withContent[1]?.revision.version ?? to;

  const choose = (which, version) => {
    const next = new URLSearchParams({ from, to, [which]: version });
    location.hash = `#/manifest/${encodeURIComponent(name)}?${next}`;
  };
  const radio = (which, entry) => entry.revision.deleted ? el("span", { class: "muted" }, "—") : (() => {
    const input = el("input", { type: "radio", name: which, value: entry.revision.version, checked: entry.revision.version === (which === "from" ? from : to),
      "aria-label": `diff ${which} ${entry.revision.version}` });
    input.addEventListener("change", () => choose(which, entry.revision.version));
    return input;
  })();

  const nodes = table(["Node", "State", "Revision", "Applied", "Changed", "Error"], status.manifests.map(s =>
    el("tr", { "data-node": s.node },
      el("th", { scope: "row" }, s.node),
      el("td", {}, stateLabel(stateOf(s))),
      el("td", { class: "mono nowrap" }, s.report?.version ?? "—"),
      el("td", { class: "nowrap" }, since(s.report?.time)),
      el("td", {}, s.report ? String(s.report.changed) : "—"),
      el("td", { class: "wrap" }, hasReason(s) ? el("pre", { class: s.state === "pending" ? "" : "error" }, failureText(s.report)) : ""))), { id: "nodes" });

  const revisions = table(["From", "To", "Revision", "Pushed", "By", "Message", "Applied by", ""], history.map(h =>
    el("tr", { "data-version": h.revision.version },
      el("td", {}, radio("from", h)),
      el("td", {}, radio("to", h)),
      el("td", { class: "mono nowrap" }, h.revision.version),
      el("td", { class: "nowrap" }, since(h.revision.time)),
      el("td", { class: "nowrap" }, `${h.revision.author} via ${h.revision.origin}`),
      el("td", { class: "wrap" }, h.revision.message || el("span", { class: "muted" }, "—")),
      el("td", {}, tags(h.appliedBy)),
      el("td", { class: "nowrap" }, h.head ? el("span", { class: "tag" }, "★ head") : null, h.lost ? el("span", { class: "tag" }, "⚠ lost") : null,
        h.revision.deleted ? el("span", { class: "tag" }, "deleted") : null))), { id: "history" });

  let diff;
  if (!from || !to) diff = el("p", { class: "muted" }, "No revision with content.");
  else if (from === to) diff = el("p", { class: "muted", id: "diff" }, `Choose two different revisions (from, to) to see what changed; ${to} is selected.`);
  else {
    const answer = await api(`/v1/manifests/${encodeURIComponent(name)}/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    diff = el("pre", { class: "diff", id: "diff", "aria-label": `changes from ${from} to ${to}` }, answer.diff.split("\n").filter((l, i, all) => i < all.length - 1 || l).map(line =>
      el("span", { class: line.startsWith("+++") || line.startsWith("---") ? "head" : line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : undefined }, line)));
  }

  return [
    el("h1", {}, `Manifest ${name}`),
    el("dl", { class: "cards" },
      el("div", { class: "card" }, el("dt", {}, "Head"), el("dd", { class: "mono" }, head.version), el("dt", {}, "Hash"), el("dd", { class: "mono" }, head.hash.slice(0, 12))),
      el("div", { class: "card" }, el("dt", {}, "Pushed"), el("dd", {}, since(head.time), ` by ${head.author} via ${head.origin}`), el("dt", {}, "Message"), el("dd", {}, head.message || "—")),
      el("div", { class: "card" }, el("dt", {}, "Target"), el("dd", {}, targetText(head.target)), el("dt", {}, "Targeted nodes"), el("dd", {}, tags(summary?.targets ?? [])))),
    head.deleted ? el("p", { class: "banner" }, `Deleted by ${head.author}: ${head.message}`) : null,
    el("h2", {}, "Nodes"),
    status.manifests.length ? nodes : el("p", { class: "muted" }, "No node is targeted."),
    el("h2", {}, `History (${history.length})`),
    revisions,
    el("h2", {}, "Diff"),
    diff,
  ];
}

/** Events: what the stream has said since this page was opened. */
function eventsPage() {
  return [
    el("h1", {}, "Events"),
    el("p", { class: "muted" }, "Revisions, reports and membership changes as this node hears them, newest first, since this page was opened."),
    el("ol", { class: "feed", id: "feed", role: "log", "aria-live": "polite", "aria-relevant": "additions" },
      feed.length ? feed.map(feedItem) : el("li", { class: "muted" }, "Nothing yet: waiting for the next push, report or membership change.")),
  ];
}

function feedItem(e) {
  const time = el("time", { class: "mono", datetime: e.at.toISOString() }, e.at.toLocaleTimeString());
  const r = e.report, v = e.revision, m = e.member;
  let kind, text;
  if (r) {
    const state = e.kind === "drift" ? "drift" : r.outcome;
    kind = stateLabel(state);
    text = [el("strong", {}, r.node), " · ", manifestLink(r.manifest), " ", el("span", { class: "mono" }, r.version),
      ` · ${r.changed} changed · ${r.durationMs} ms`, r.error ? el("div", { class: "error" }, r.error) : null];
  } else if (v) {
    kind = el("span", { class: "state" }, v.deleted ? "✕ deleted" : "⇪ revision");
    text = [manifestLink(v.manifest), " ", el("span", { class: "mono" }, v.version), ` by ${v.author} via ${v.origin}`, v.message ? `: ${v.message}` : ""];
  } else {
    kind = el("span", { class: "state" }, e.kind === "unreachable" ? "✗ unreachable" : e.kind === "reachable" ? "✓ reachable" : "● member");
    text = [el("strong", {}, m?.name ?? "?"), ` ${m?.status ?? ""} `, el("span", { class: "mono" }, m?.address ?? "")];
  }
  return el("li", { "data-kind": e.kind }, time, el("span", {}, kind), el("span", {}, text));
}

// ---- routing and live updates --------------------------------------------------------------

function route() {
  const [path, search] = location.hash.replace(/^#/, "").split("?");
  const parts = (path || "/").split("/").filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(search ?? "");
  if (parts[0] === "manifests") return { key: "manifests", draw: manifestsPage };
  if (parts[0] === "manifest" && parts[1]) return { key: "manifests", draw: () => manifestPage(parts[1], query) };
  if (parts[0] === "events") return { key: "events", draw: eventsPage };
  return { key: "fleet", draw: fleetPage };
}

async function draw() {
  const current = ++drawing;
  const { key, draw } = route();
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.page === key) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  let content;
  try {
    content = await draw();
  } catch (error) {
    content = [el("h1", {}, "Cannot show this page"), el("p", { class: "error" }, error.message)];
  }
  if (current !== drawing) return;
  // Keep where the reader had scrolled each wide table to.
  const scrolled = [...page.querySelectorAll(".scroll")].map(s => s.scrollLeft);
  page.replaceChildren(...[content].flat(2).filter(Boolean));
  page.querySelectorAll(".scroll").forEach((s, i) => { s.scrollLeft = scrolled[i] ?? 0; });
  document.title = `Mesh · ${page.querySelector("h1")?.textContent ?? ""}`;
  document.body.dataset.drawn = String(current);
  settleSoon();
}

let lastEvent = 0;
let settling = null;
/**
 * An event can come before the state the page reads has it: a report or a revision arrives on
 * the node's topic at once, while its replica of the status and index catches up a gossip round
 * later, and the event stream passes each event on only once. So after a burst of events, and
 * while anything still shows pending, the page looks again a little later.
 */
function settleSoon() {
  clearTimeout(settling);
  const recent = Date.now() - lastEvent < 3000;
  const pendingShown = page.querySelector("td[data-state='pending']") !== null;
  if (recent || pendingShown) settling = setTimeout(draw, recent ? 700 : 2000);
}

let pending = null;
/** Draws again soon: one push brings a burst of events, and one draw after the burst is enough. */
function redrawSoon() {
  clearTimeout(pending);
  pending = setTimeout(draw, 150);
}

function offlineBanner(status) {
  const banner = document.getElementById("offline");
  banner.hidden = !status?.offline;
  banner.textContent = status?.offline ? `⚠ ${status.node} is offline since ${new Date(status.offlineSince).toLocaleString()}: ${status.offlineReason ?? "no peer reachable"}. What it shows of the others may be stale.` : "";
}

function listen() {
  const live = document.getElementById("live");
  const stream = new EventSource("/v1/events");
  stream.addEventListener("open", () => {
    live.textContent = "● live";
    // Whatever happened while the stream was down is in the API: read it again.
    redrawSoon();
    api("/v1/status").then(offlineBanner, () => {});
  });
  stream.addEventListener("error", () => { live.textContent = "○ reconnecting…"; });
  for (const kind of EVENT_KINDS) {
    stream.addEventListener(kind, message => {
      feed.unshift({ ...JSON.parse(message.data), at: new Date() });
      feed.length = Math.min(feed.length, FEED_LENGTH);
      lastEvent = Date.now();
      if (kind === "member" || kind === "unreachable" || kind === "reachable") api("/v1/status").then(offlineBanner, () => {});
      redrawSoon();
    });
  }
}

window.addEventListener("hashchange", () => { draw(); page.focus(); });
setInterval(() => {
  for (const t of document.querySelectorAll("[data-since]")) if (t.dataset.since) t.textContent = age(t.dataset.since);
}, 1000);
draw();
listen();
