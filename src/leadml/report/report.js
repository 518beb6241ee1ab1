/* Lead cards: renders the queue and the cards from the embedded JSON.
   Data only ever reaches the page through textContent and attributes, never as markup.
   The queue is rendered in batches as the rep scrolls, so 10,000 leads open at once. */
(function () {
  "use strict";
  const BATCH = 100;
  const data = JSON.parse(document.getElementById("leadml-data").textContent);
  const L = data.labels;
  const meta = data.meta;
  const leads = data.leads;
  const lang = meta.lang;

  const pct0 = new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 });
  const pct1 = new Intl.NumberFormat(lang, { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const num1 = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const int = new Intl.NumberFormat(lang);
  const dayFormat = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });
  const MINUS = "\u2212";

  const $ = (id) => document.getElementById(id);
  const queueEl = $("queue");
  const card = $("card");
  const placeholder = $("placeholder");
  const search = $("search");
  const sourceSelect = $("source");
  const ownerSelect = $("owner");
  const dormantBox = $("dormant");
  const tiersEl = $("tiers");
  const countEl = $("count");
  const emptyEl = $("empty");
  const moreEl = $("more");
  const sentinel = $("sentinel");

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  const percent = (p) => (p === undefined ? "–" : (p < 0.1 ? pct1 : pct0).format(p));
  const points = (v) => (v < 0 ? MINUS + num1.format(-v) : num1.format(v));
  const signed = (v) => (v < 0 ? MINUS : "+") + num1.format(Math.abs(v));
  const tenths = (v) => Math.round(v * 10);
  function day(text) {
    const date = new Date(text + "T00:00:00Z");
    return isNaN(date.getTime()) ? text : dayFormat.format(date);
  }
  const KNOWN_TIERS = ["hot", "warm", "cold"];
  const tierLabel = (t) => L["tier_" + t] || t || "–";
  const tierClass = (t) => "badge " + (KNOWN_TIERS.includes(t) ? "tier-" + t : "tier-other");
  const displayName = (l) => l.name || l.id;
  const fold = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  const format = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k]);

  // --- filters -------------------------------------------------------------
  const state = { query: "", tier: "", source: "", owner: "", dormant: false, order: [], shown: 0, active: 0, open: -1 };
  let haystack = null;

  function matches() {
    const terms = fold(state.query.trim()).split(/\s+/).filter(Boolean);
    if (terms.length && haystack === null) {
      haystack = leads.map((l) => fold([l.name || "", l.company || "", l.id].join(" ")));
    }
    const out = [];
    for (let i = 0; i < leads.length; i++) {
      const l = leads[i];
      if (state.tier && l.tier !== state.tier) continue;
      if (state.source && l.source !== state.source) continue;
      if (state.owner && l.owner !== state.owner) continue;
      if (l.dormant && !state.dormant) continue;
      if (terms.length && !terms.every((t) => haystack[i].includes(t))) continue;
      out.push(i);
    }
    return out;
  }

  function applyFilters() {
    state.order = matches();
    state.shown = 0;
    state.active = 0;
    queueEl.textContent = "";
    renderMore();
    countEl.textContent = format(L.leads_shown, { shown: int.format(state.order.length), total: int.format(leads.length) });
    emptyEl.hidden = state.order.length > 0;
  }

  function buildFilters() {
    const tierCounts = new Map();
    const sourceCounts = new Map();
    const ownerCounts = new Map();
    let dormant = 0;
    for (const l of leads) {
      tierCounts.set(l.tier, (tierCounts.get(l.tier) || 0) + 1);
      if (l.source) sourceCounts.set(l.source, (sourceCounts.get(l.source) || 0) + 1);
      if (l.owner) ownerCounts.set(l.owner, (ownerCounts.get(l.owner) || 0) + 1);
      if (l.dormant) dormant++;
    }
    if (dormant) {
      $("dormant-label").textContent = format(L.show_dormant, { n: int.format(dormant) });
      $("dormant-field").hidden = false;
    }
    const owners = [...ownerCounts.keys()].sort((a, b) => a.localeCompare(b, lang));
    for (const o of owners) {
      const option = el("option", null, o + " (" + int.format(ownerCounts.get(o)) + ")");
      option.value = o;
      ownerSelect.append(option);
    }
    const tiers = KNOWN_TIERS.concat([...tierCounts.keys()].filter((t) => t && !KNOWN_TIERS.includes(t)));
    const chips = [["", L.all, leads.length]].concat(tiers.map((t) => [t, tierLabel(t), tierCounts.get(t) || 0]));
    for (const [value, label, n] of chips) {
      const chip = el("button", "chip", label + " (" + int.format(n) + ")");
      chip.type = "button";
      chip.dataset.tier = value;
      chip.setAttribute("aria-pressed", String(value === state.tier));
      chip.addEventListener("click", () => {
        state.tier = value;
        for (const other of tiersEl.querySelectorAll(".chip")) {
          other.setAttribute("aria-pressed", String(other.dataset.tier === value));
        }
        applyFilters();
      });
      tiersEl.append(chip);
    }
    const sources = [...sourceCounts.keys()].sort((a, b) => (data.sources[a] || a).localeCompare(data.sources[b] || b, lang));
    for (const s of sources) {
      const option = el("option", null, (data.sources[s] || s) + " (" + int.format(sourceCounts.get(s)) + ")");
      option.value = s;
      sourceSelect.append(option);
    }
  }

  // --- the queue -----------------------------------------------------------
  // The reason that moved the score most, for the row: what a rep reads before opening the card.
  function topReason(l) {
    let best = null;
    for (const r of l.reasons || []) if (!best || Math.abs(r[1]) > Math.abs(best[1])) best = r;
    return best;
  }

  function row(pos) {
    const i = state.order[pos];
    const l = leads[i];
    const item = el("li");
    const button = el("button", "row");
    button.type = "button";
    button.dataset.pos = String(pos);
    button.dataset.id = l.id;
    button.tabIndex = pos === state.active ? 0 : -1;
    if (i === state.open) button.setAttribute("aria-current", "true");
    const who = el("span", "who");
    who.append(el("span", "name", displayName(l)), el("span", "sub", [l.title, l.company].filter(Boolean).join(" · ")));
    const top = topReason(l);
    if (top) {
      const why = el("span", "why " + (top[1] < 0 ? "neg" : "pos"), data.texts[top[0]] + " " + signed(top[1]));
      who.append(why);
    }
    const figures = el("span", "figures");
    figures.append(el("span", "prob", percent(l.p)), el("span", tierClass(l.tier), tierLabel(l.tier)));
    if (l.dormant) figures.append(el("span", "badge dormant", L.dormant));
    button.append(el("span", "rank", "#" + (i + 1)), who, figures);
    item.append(button);
    return item;
  }

  function renderMore() {
    const end = Math.min(state.shown + BATCH, state.order.length);
    const fragment = document.createDocumentFragment();
    for (let pos = state.shown; pos < end; pos++) fragment.append(row(pos));
    queueEl.append(fragment);
    state.shown = end;
    moreEl.hidden = state.shown >= state.order.length;
  }

  const rowAt = (pos) => queueEl.children[pos] && queueEl.children[pos].firstChild;

  function focusRow(pos) {
    if (!state.order.length) return;
    pos = Math.max(0, Math.min(pos, state.order.length - 1));
    while (pos >= state.shown) renderMore();
    const previous = rowAt(state.active);
    if (previous) previous.tabIndex = -1;
    state.active = pos;
    const button = rowAt(pos);
    button.tabIndex = 0;
    button.focus();
  }

  // --- the card ------------------------------------------------------------
  function keyFigure(value, label) {
    const box = el("div", "keyfig");
    box.append(el("span", "value", value), el("span", "label", label));
    return box;
  }

  function track(from, to, lo, hi, kind) {
    const span = hi - lo || 1;
    const bar = el("div", "track");
    bar.setAttribute("aria-hidden", "true");
    if (lo < 0) {
      const axis = el("div", "axis");
      axis.style.left = ((-lo / span) * 100).toFixed(2) + "%";
      bar.append(axis);
    }
    const fill = el("div", "fill " + kind);
    fill.style.left = (((Math.min(from, to) - lo) / span) * 100).toFixed(2) + "%";
    fill.style.width = ((Math.abs(to - from) / span) * 100).toFixed(2) + "%";
    bar.append(fill);
    return bar;
  }

  function subScores(l) {
    const list = el("ol", "bars");
    const families = ["fit", "persona", "behaviour", "intent"];
    const values = (l.sub || []).map((v) => (v === null || v === undefined ? null : v));
    const scale = Math.max(10, ...values.filter((v) => v !== null).map(Math.abs));
    families.forEach((family, k) => {
      const v = values[k];
      const item = el("li", "bar-row");
      item.dataset.family = family;
      item.append(el("span", "label", L["family_" + family]));
      if (v === null || v === undefined) {
        item.append(el("span"), el("span", "num", "–"));
      } else {
        item.append(track(0, v, -scale, scale, v < 0 ? "neg" : "pos"), el("span", "num " + (v < 0 ? "neg" : "pos"), signed(v)));
      }
      list.append(item);
    });
    return list;
  }

  function waterfall(l) {
    // Steps in tenths of a point, so the sums are exact: base + reasons + other = total.
    const steps = [{ kind: "base", label: L.base, v: l.base || 0 }];
    for (const [t, v, family] of l.reasons || []) steps.push({ kind: "reason", label: data.texts[t], family, v });
    steps.push({ kind: "other", label: L.other, v: l.other || 0 });
    let at = 0;
    let lo = 0;
    let hi = 0;
    for (const s of steps) {
      s.from = s.kind === "base" ? 0 : at;
      at += tenths(s.v);
      s.to = at;
      lo = Math.min(lo, s.from, s.to);
      hi = Math.max(hi, s.from, s.to);
    }
    steps.push({ kind: "total", label: L.total, v: at / 10, from: 0, to: at });
    const list = el("ol", "waterfall");
    for (const s of steps) {
      const item = el("li", "step" + (s.kind === "total" ? " total-row" : ""));
      item.dataset.kind = s.kind;
      item.dataset.points = String(s.v);
      const label = el("span", "label", s.label);
      if (s.kind === "reason") label.append(el("span", "family", L["family_" + s.family] || L.family_other));
      const sign = s.kind === "base" || s.kind === "total" ? "total" : s.v < 0 ? "neg" : "pos";
      const text = s.kind === "base" ? points(s.v) : s.kind === "total" ? "= " + points(s.v) : signed(s.v);
      item.append(label, track(s.from, s.to, lo, hi, s.kind === "base" ? "base" : sign), el("span", "num " + sign, text));
      list.append(item);
    }
    return list;
  }

  function activities(l) {
    const acts = l.acts || [];
    if (!acts.length) return el("p", "empty", L.no_activities);
    const list = el("ol", "acts");
    for (const [when, type] of acts) {
      const item = el("li");
      const time = el("time", null, day(when));
      time.dateTime = when;
      item.append(time, el("span", null, data.events[type] || type));
      list.append(item);
    }
    return list;
  }

  function renderCard(i) {
    const l = leads[i];
    const run = data.runs[l.run] || {};
    card.textContent = "";
    card.dataset.id = l.id;

    const head = el("div", "card-head");
    const who = el("div");
    const name = el("h2", null, displayName(l));
    name.id = "card-name";
    who.append(name);
    const subtitle = [l.title, l.company].filter(Boolean).join(" · ");
    if (subtitle) who.append(el("p", "sub", subtitle));
    const badges = el("div", "badges");
    badges.append(el("span", tierClass(l.tier), tierLabel(l.tier)));
    if (l.mql) badges.append(el("span", "badge mql", L.mql));
    if (l.dormant) badges.append(el("span", "badge dormant", L.dormant));
    who.append(badges);
    const close = el("button", "close", "×");
    close.type = "button";
    close.setAttribute("aria-label", L.close);
    close.title = L.close;
    close.addEventListener("click", closeCard);
    head.append(who, close);

    const figures = el("div", "keyfigs");
    figures.append(keyFigure(percent(l.p), L.probability), keyFigure(points(l.pts || 0), L.points));
    if (l.pw !== undefined) figures.append(keyFigure(percent(l.pw), L.probability_won));
    figures.append(keyFigure("#" + int.format(i + 1), L.rank + " / " + int.format(leads.length)));

    const facts = el("ul", "facts");
    const industry = l.industry ? data.industries[l.industry] || l.industry : null;
    const company = [l.company || L.unknown_company, industry, l.employees !== undefined ? int.format(l.employees) + " " + L.employees : null, l.country];
    facts.append(el("li", null, company.filter(Boolean).join(" · ")));
    const origin = [l.seniority, l.source ? L.source + L.colon + (data.sources[l.source] || l.source) : null, l.owner ? L.owner + L.colon + l.owner : null, "id " + l.id];
    facts.append(el("li", null, origin.filter(Boolean).join(" · ")));

    const model = [L.model + L.colon + [run.model_name, run.model_version ? L.version + " " + run.model_version : null].filter(Boolean).join(" ")];
    if (run.model_won_version) model.push(L.model_won + " " + L.version + " " + run.model_won_version);
    if (run.scored_at) model.push(L.scored_at + " " + day(run.scored_at));
    if (run.as_of) model.push(L.as_of + " " + day(run.as_of));

    card.append(
      head,
      figures,
      facts,
      el("h3", null, L.reasons),
      waterfall(l),
      el("h3", null, L.subscores),
      subScores(l),
      el("h3", null, L.activities),
      activities(l),
      el("p", "model", model.join(" · "))
    );
  }

  function setHash(id) {
    try {
      history.replaceState(null, "", id === null ? location.pathname + location.search : "#lead=" + encodeURIComponent(id));
    } catch (_) {
      /* some browsers refuse history on file:// pages: the link is a nicety */
    }
  }

  function openCard(pos, moveFocus) {
    const i = state.order[pos];
    if (i === undefined) return;
    const previous = queueEl.querySelector('.row[aria-current="true"]');
    if (previous) previous.removeAttribute("aria-current");
    state.open = i;
    renderCard(i);
    const button = rowAt(pos);
    if (button) button.setAttribute("aria-current", "true");
    card.hidden = false;
    placeholder.hidden = true;
    document.body.classList.add("card-open");
    setHash(leads[i].id);
    $("panel").scrollTop = 0;
    // The panel is in view already (sticky beside the queue, or covering it on phones).
    if (moveFocus) card.focus({ preventScroll: true });
  }

  function closeCard() {
    if (card.hidden) return;
    card.hidden = true;
    card.textContent = "";
    placeholder.hidden = false;
    document.body.classList.remove("card-open");
    const current = queueEl.querySelector('.row[aria-current="true"]');
    if (current) current.removeAttribute("aria-current");
    state.open = -1;
    setHash(null);
    focusRow(state.active);
  }

  // --- events --------------------------------------------------------------
  queueEl.addEventListener("click", (event) => {
    const button = event.target.closest(".row");
    if (!button) return;
    const pos = Number(button.dataset.pos);
    const previous = rowAt(state.active);
    if (previous && previous !== button) previous.tabIndex = -1;
    button.tabIndex = 0;
    state.active = pos;
    openCard(pos, true);
  });
  queueEl.addEventListener("keydown", (event) => {
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
    if (event.key in moves) focusRow(state.active + moves[event.key]);
    else if (event.key === "Home") focusRow(0);
    else if (event.key === "End") focusRow(state.order.length - 1);
    else return;
    event.preventDefault();
  });
  queueEl.addEventListener("focusin", (event) => {
    const button = event.target.closest(".row");
    if (button) state.active = Number(button.dataset.pos);
  });
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.query = search.value;
      applyFilters();
    }, 120);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "Enter") {
      event.preventDefault();
      clearTimeout(typing);
      if (state.query !== search.value) {
        state.query = search.value;
        applyFilters();
      }
      focusRow(0);
    }
  });
  sourceSelect.addEventListener("change", () => {
    state.source = sourceSelect.value;
    applyFilters();
  });
  ownerSelect.addEventListener("change", () => {
    state.owner = ownerSelect.value;
    applyFilters();
  });
  dormantBox.addEventListener("change", () => {
    state.dormant = dormantBox.checked;
    applyFilters();
  });
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  moreEl.addEventListener("click", () => {
    const next = state.shown;
    renderMore();
    focusRow(next);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !card.hidden) {
      event.preventDefault();
      closeCard();
    } else if (event.key === "/" && !/^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) {
      event.preventDefault();
      search.focus();
    }
  });
  if ("IntersectionObserver" in window) {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && state.shown < state.order.length) {
        renderMore();
        // Observe again: if the sentinel is still in view, the next batch follows.
        observer.unobserve(sentinel);
        observer.observe(sentinel);
      }
    }, { rootMargin: "600px 0px" });
    observer.observe(sentinel);
  }

  // --- start ---------------------------------------------------------------
  buildFilters();
  applyFilters();
  const linked = /^#lead=(.+)$/.exec(location.hash);
  if (linked) {
    const wanted = decodeURIComponent(linked[1]);
    if (leads.some((l) => l.id === wanted && l.dormant)) {
      dormantBox.checked = state.dormant = true;
      applyFilters();
    }
    const pos = state.order.findIndex((i) => leads[i].id === wanted);
    if (pos >= 0) {
      focusRow(pos);
      openCard(pos, true);
    }
  }
  document.documentElement.dataset.ready = "true";
  window.leadmlReadyAt = performance.now();
})();
