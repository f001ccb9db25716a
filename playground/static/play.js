// gridbot play: a plain-JavaScript client of the playground's JSON + server-sent events.
"use strict";
(function () {
  const W = window.WORDS;
  const lang = new URLSearchParams(location.search).get("lang") || "zh_CN";
  const $ = (id) => document.getElementById(id);
  const saved = JSON.parse(localStorage.getItem("gridbot-play") || "{}");
  const ui = { as: saved.as || null, chat: saved.chat || null, state: null, busy: false };

  function remember() {
    localStorage.setItem("gridbot-play", JSON.stringify({ as: ui.as, chat: ui.chat,
      large: document.body.classList.contains("large") }));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "html") node.innerHTML = value;  // sanitised by the server
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  async function api(path, body) {
    const options = body === undefined ? {} : body instanceof FormData
      ? { method: "POST", body }
      : { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
    const response = await fetch(path, options);
    const data = await response.json();
    if (!response.ok || data.ok === false) throw new Error(data.error || response.statusText);
    return data;
  }

  async function act(work) {
    if (ui.busy) return;
    ui.busy = true;
    document.body.classList.add("busy");
    try { return await work(); }
    catch (error) { toast(W.failed + error.message); }
    finally { ui.busy = false; document.body.classList.remove("busy"); await refresh(); }
  }

  let toastTimer = null;
  function toast(text) {
    const box = $("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, 2500);
  }
  function alertBox(text) {
    $("alert-text").textContent = text;
    $("alert").hidden = false;
    $("alert-ok").focus();
  }
  $("alert-ok").addEventListener("click", () => { $("alert").hidden = true; });

  // ------------------------------------------------------------------ state and lists
  // Only the newest refresh may draw: an older one (say, from a live event that arrived just
  // before a button press) must not paint its stale answer over the newer one.
  let generation = 0;
  async function refresh() {
    const mine = ++generation;
    const query = new URLSearchParams({ lang, ...(ui.as ? { as: ui.as } : {}) });
    const state = await (await fetch("/api/state?" + query)).json();
    if (mine !== generation) return;
    ui.state = state;
    if (!ui.as || !ui.state.people.some((p) => p.id === ui.as)) ui.as = ui.state.people[0].id;
    $("clock").textContent = ui.state.clock;
    renderPeople();
    renderChats();
    await renderLog(mine);
  }

  const TINTS = ["#7aa5d6", "#e8a25b", "#8cc17a", "#c98bd1", "#6fb5b0", "#d9827a", "#9a9fd8"];
  function tint(id) { return "background:" + TINTS[Math.abs(Number(id)) % TINTS.length]; }

  function renderPeople() {
    const box = $("people");
    box.replaceChildren(...ui.state.people.map((p) => el("button", {
      type: "button", className: "person", role: "radio", "data-persona": p.id,
      "aria-checked": String(p.id === ui.as), title: p.full_name + " · " + p.role,
      onclick: () => { ui.as = p.id; if (ui.chat > 0) ui.chat = p.id; remember(); refresh(); },
    }, el("span", { className: "avatar", style: tint(p.id) }, p.avatar),
       el("span", { className: "n" }, p.name))));
    const me = ui.state.people.find((p) => p.id === ui.as);
    $("who").textContent = me.full_name + " · " + me.role + (me.room ? " · " + me.room : "");
  }

  function renderChats() {
    const chats = ui.state.chats;
    if (ui.chat !== null && !chats.some((c) => c.id === ui.chat)) ui.chat = null;
    $("chats").replaceChildren(...chats.map((c) => el("button", {
      type: "button", className: "chat", "data-chat": c.id, "aria-current": String(c.id === ui.chat),
      onclick: () => openChat(c.id),
    }, el("span", { className: "avatar " + (c.kind === "group" ? "group" : "bot") }, c.avatar),
       el("span", { className: "meta" }, el("span", { className: "t" }, c.title),
          el("span", { className: "p" }, c.preview || "")))));
  }

  function openChat(id) {
    ui.chat = id;
    remember();
    document.body.classList.add("in-chat");
    refresh().then(() => $("text").focus());
  }
  $("back").addEventListener("click", () => {
    document.body.classList.remove("in-chat");
    ui.chat = null;
    remember();
    refresh();
  });

  // ------------------------------------------------------------------ the conversation
  async function renderLog(mine) {
    const log = $("log");
    const chat = ui.state.chats.find((c) => c.id === ui.chat);
    $("title").textContent = chat ? chat.title : W.pick_chat;
    $("composer").hidden = !chat;
    if (!chat) { log.replaceChildren(el("p", { className: "empty" }, W.pick_chat)); return; }
    $("start").hidden = chat.started;
    for (const id of ["text", "send", "voice-hold", "place-open"]) $(id).hidden = !chat.started;
    renderPlaces();
    const data = await (await fetch(`/api/messages?chat=${ui.chat}&as=${ui.as}`)).json();
    if (mine !== generation || data.chat !== ui.chat) return;
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    const items = data.messages.map(renderMessage);
    log.replaceChildren(...(items.length ? items : [el("p", { className: "empty" }, W.empty)]));
    ui.stick = atBottom || log.dataset.chat !== String(ui.chat);
    keepAtBottom();
    log.dataset.chat = String(ui.chat);
    log.dataset.as = String(ui.as);
  }

  // A picture that loads after the log was drawn must not leave the newest message hidden.
  function keepAtBottom() {
    const log = $("log");
    if (ui.stick) log.scrollTop = log.scrollHeight;
  }

  function renderMessage(m) {
    const bubble = el("div", { className: "bubble" });
    if (m.quote) bubble.append(el("div", { className: "quote" }, m.quote.name + "：" + m.quote.text));
    if (m.photo) bubble.append(el("img", { src: m.photo, alt: "", onload: keepAtBottom }));
    if (m.photos) bubble.append(el("div", { className: "album", "data-album": m.album },
      ...m.photos.map((src) => el("img", { src, alt: "", onload: keepAtBottom }))));
    if (m.voice) bubble.append(el("div", { className: "voice" },
      el("span", { className: "secs" }, W.voice_seconds.replace("{n}", m.voice.duration)),
      el("audio", { controls: true, preload: "none", src: m.voice.url })));
    if (m.place) bubble.append(el("div", { className: "pin", title: W.pin },
      el("span", { className: "mark", "aria-hidden": "true" }, "📍"),
      el("span", { className: "where" },
        m.place.title ? el("strong", {}, m.place.title) : null,
        m.place.address ? el("span", { className: "addr" }, m.place.address) : null,
        el("span", { className: "ll" }, m.place.latitude + ", " + m.place.longitude))));
    if (m.document) bubble.append(el("div", { className: "doc" }, "📄 ",
      el("a", { href: m.document.url, download: m.document.name }, m.document.name)));
    if (m.html) bubble.append(el("div", { className: "text", html: m.html }));
    if (m.poll) bubble.append(renderPoll(m.poll));
    const body = el("div", { className: "body" });
    if (!m.own) body.append(el("span", { className: "name" }, m.name));
    body.append(bubble);
    if (m.buttons.length) body.append(el("div", { className: "keyboard" }, ...m.buttons.map((row) =>
      el("div", { className: "row" }, ...row.map((b) => el("button", {
        type: "button", className: "kb", onclick: () => pressButton(m, b),
      }, b.text))))));
    body.append(el("span", { className: "stamp" }, m.time + (m.edited ? " · " + W.edited : "")));
    return el("div", { className: "msg" + (m.own ? " own" : ""), "data-message": m.id,
      "data-from": m.from_id },
      el("span", { className: "avatar" + (m.bot ? " bot" : ""), style: m.bot ? null : tint(m.from_id) },
        m.avatar), body);
  }

  function renderPoll(poll) {
    return el("div", { className: "poll" }, el("strong", {}, poll.question),
      ...poll.options.map((o, i) => el("button", {
        type: "button", className: "opt" + (o.mine ? " mine" : ""), disabled: poll.closed,
        onclick: () => act(() => api("/api/vote", { as: ui.as, poll_id: poll.id, options: [i] })),
      }, o.text, el("span", { className: "count" }, o.count + " " + W.votes))));
  }

  function pressButton(m, b) {
    if (b.kind === "url") {
      if (/^https?:\/\/t\.me\/[^?]+\?start=/.test(b.url)) {
        act(async () => { const r = await api("/api/link", { as: ui.as, url: b.url }); ui.chat = r.chat; remember(); });
      } else window.open(b.url, "_blank", "noopener");
      return;
    }
    act(async () => {
      const answer = await api("/api/press", { as: ui.as, chat: ui.chat, message_id: m.id, label: b.text });
      if (answer.toast) (answer.alert ? alertBox : toast)(answer.toast);
    });
  }

  // ------------------------------------------------------------------ composing
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text || ui.chat === null) return;
    $("text").value = "";
    act(() => api("/api/send", { as: ui.as, chat: ui.chat, text }));
  });
  $("start").addEventListener("click", () => act(() => api("/api/send", { as: ui.as, chat: ui.as, text: "/start" })));
  $("photo").addEventListener("change", () => {
    const file = $("photo").files[0];
    if (!file) return;
    $("photo-preview").src = URL.createObjectURL(file);
    $("photo-preview").title = String($("photo").files.length);
    $("photo-sheet").hidden = false;
    $("photo-caption").focus();
  });
  $("photo-send").addEventListener("click", () => {
    const form = new FormData();
    form.append("as", ui.as);
    form.append("chat", ui.chat);
    form.append("caption", $("photo-caption").value);
    const files = [...$("photo").files];
    for (const file of files) form.append("photo", file);  // several: an album
    $("photo-sheet").hidden = true;
    $("photo-caption").value = "";
    $("photo").value = "";
    act(() => api(files.length > 1 ? "/api/album" : "/api/photo", form));
  });

  // A voice note: hold the button to record (a microphone), or pick a recording.
  function sendVoice(blob, seconds) {
    const form = new FormData();
    form.append("as", ui.as);
    form.append("chat", ui.chat);
    form.append("duration", String(Math.max(1, Math.round(seconds))));
    form.append("voice", blob, "voice.ogg");
    act(() => api("/api/voice", form));
  }
  function lengthOf(file) {
    return new Promise((resolve) => {
      const audio = new Audio();
      audio.preload = "metadata";
      audio.onloadedmetadata = () => resolve(Number.isFinite(audio.duration) ? audio.duration : 1);
      audio.onerror = () => resolve(1);
      audio.src = URL.createObjectURL(file);
    });
  }
  $("voice").addEventListener("change", async () => {
    const file = $("voice").files[0];
    if (!file) return;
    const seconds = await lengthOf(file);
    $("voice").value = "";
    sendVoice(file, seconds);
  });
  let recording = null;
  $("voice-hold").addEventListener("pointerdown", async () => {
    if (!navigator.mediaDevices || !window.MediaRecorder) { $("voice").click(); return; }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const recorder = new MediaRecorder(stream);
      const parts = [];
      recorder.ondataavailable = (event) => parts.push(event.data);
      recorder.onstop = () => {
        stream.getTracks().forEach((track) => track.stop());
        sendVoice(new Blob(parts, { type: recorder.mimeType }), (Date.now() - recording.since) / 1000);
        recording = null;
        $("voice-hold").classList.remove("recording");
      };
      recording = { recorder, since: Date.now() };
      recorder.start();
      $("voice-hold").classList.add("recording");
    } catch (error) { $("voice").click(); }
  });
  for (const type of ["pointerup", "pointerleave"]) {
    $("voice-hold").addEventListener(type, () => {
      if (recording && recording.recorder.state === "recording") recording.recorder.stop();
    });
  }
  $("voice-hold").addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); $("voice").click(); }
  });

  // A location: one of the scene's named places (a venue) or a latitude and longitude.
  function renderPlaces() {
    const places = (ui.state && ui.state.places) || [];
    $("places").replaceChildren(...places.map((p) => el("button", {
      type: "button", "data-place": p.title, title: p.address,
      onclick: () => sendPlace({ latitude: p.latitude, longitude: p.longitude, title: p.title, address: p.address }),
    }, "📍 " + p.title)));
  }
  function sendPlace(spot) {
    $("place-sheet").hidden = true;
    $("place-open").setAttribute("aria-expanded", "false");
    act(() => api("/api/place", { as: ui.as, chat: ui.chat, ...spot }));
  }
  $("place-open").addEventListener("click", () => {
    const open = $("place-sheet").hidden;
    $("place-sheet").hidden = !open;
    $("place-open").setAttribute("aria-expanded", String(open));
  });
  $("place-send").addEventListener("click", () => {
    const latitude = $("place-lat").value.trim();
    const longitude = $("place-lon").value.trim();
    if (!latitude || !longitude) return;
    $("place-lat").value = "";
    $("place-lon").value = "";
    sendPlace({ latitude, longitude });
  });

  // ------------------------------------------------------------------ clock, font, live
  for (const button of document.querySelectorAll("[data-jump]")) {
    button.addEventListener("click", () => act(() => api("/api/clock", { jump: button.dataset.jump })));
  }
  function setLarge(on) {
    document.body.classList.toggle("large", on);
    $("large").setAttribute("aria-pressed", String(on));
  }
  $("large").addEventListener("click", () => { setLarge(!document.body.classList.contains("large")); remember(); });
  setLarge(Boolean(saved.large));
  if (ui.chat !== null) document.body.classList.add("in-chat");

  let pending = false;
  const live = new EventSource("/events");
  live.onmessage = () => {
    if (ui.busy || pending) return;
    pending = true;
    refresh().finally(() => { pending = false; document.body.dataset.live = "1"; });
  };
  refresh();
})();
