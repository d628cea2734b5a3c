// The web questionnaire: the same interview as `triage ask`, driven by POST /interview.
// Stateless server: the answers live only in this page (state.answers) and go with
// every request. Everything is built with DOM calls and text nodes, so no answer or
// text from the server is ever parsed as markup.
"use strict";

(function () {
  const LEVELS = {
    emergency: "Emergency", urgent: "Urgent", within_24h: "Contact your midwife or doctor today",
    routine: "Routine", self_care: "Self-care",
  };
  const state = {
    answers: {},        // question id -> value, in the order given (null: don't know)
    acknowledged: null, // the urgency the person chose to go on from
    details: false,     // asked for the detail questions
    history: [],        // one entry per answered screen (or "go on"), for Back
    prefill: {},        // values to show again after going back
    questions: {},      // id -> question, from GET /questions, to word the reasons
    step: null,
  };
  const $ = (id) => document.getElementById(id);

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "className") node.className = value; else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  async function post(body) {
    const response = await fetch("interview", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok || !data) {
      const problems = data && data.problems ? data.problems.map((p) => p.message) : [];
      const error = new Error(problems.join(" ") || `The server answered ${response.status}.`);
      error.invalid = response.status === 422;
      throw error;
    }
    return data;
  }

  async function advance() {
    let step;
    try {
      step = await post({ answers: state.answers, acknowledged: state.acknowledged, details: state.details });
    } catch (error) {
      return error;
    }
    $("failure").hidden = true;
    state.step = step;
    // A server run without the safety pack says so from the first screen, not only at the result.
    const unchecked = step.warnings || [];
    $("unchecked").hidden = unchecked.length === 0;
    $("unchecked").replaceChildren(...unchecked.map((text) => el("strong", {}, `Warning: ${text}`)));
    if (step.question) showScreen(step); else showResult(step);
    return null;
  }

  // ------------------------------------------------------------------ a screen of questions

  function itemsOf(question) {
    return question.items && question.items.length ? question.items : [question];
  }

  function whyDetails(reasons) {
    if (!reasons || !reasons.length) return null;
    const list = el("ul", {}, ...reasons.map((r) => el("li", {},
      r.title + (r.urgency ? ` (could mean: ${LEVELS[r.urgency] || r.urgency})` : ""))));
    return el("details", { className: "why" }, el("summary", {}, "Why we ask"), list);
  }

  function helpDetails(text) {
    return text ? el("details", { className: "help" }, el("summary", {}, "What this means"), el("p", {}, text)) : null;
  }

  function option(name, value, text, checked) {
    const id = `${name}-${value}`;
    return el("label", { for: id }, el("input", { type: "radio", id, name, value, checked }), text);
  }

  function renderItem(item, inGroup) {
    const name = `q-${item.id}`;
    const before = state.prefill[item.id];
    const hasBefore = Object.prototype.hasOwnProperty.call(state.prefill, item.id);
    const textId = `t-${item.id}`;
    const box = el("div", { className: "item", "data-question": item.id });
    if (inGroup) box.append(el("p", { className: "item-text", id: textId }, item.text));
    const labelledBy = inGroup ? textId : "screen-title";
    if (item.type === "integer") {
      const inputId = `n-${item.id}`;
      const number = el("div", { className: "number" },
        el("label", { for: inputId }, `A whole number from ${item.min} to ${item.max}`),
        el("input", { type: "number", id: inputId, name, min: item.min, max: item.max, step: 1, inputmode: "numeric",
                      value: hasBefore && before !== null ? String(before) : null }));
      if (!item.required) {
        number.append(el("label", { for: `${name}-unknown` },
          el("input", { type: "checkbox", id: `${name}-unknown`, name: `${name}-unknown`,
                        checked: hasBefore && before === null }), "I don't know"));
      }
      box.append(number);
    } else {
      const group = el("div", { className: "options", role: "radiogroup", "aria-labelledby": labelledBy });
      if (item.type === "boolean") {
        group.append(option(name, "yes", "Yes", before === true), option(name, "no", "No", before === false));
      } else {
        if (item.choices.length > 3) group.classList.add("column");
        item.choices.forEach((choice, index) =>
          group.append(option(name, String(index), choice.label, hasBefore && before === choice.value)));
      }
      if (!item.required) group.append(option(name, "unknown", "Don't know", hasBefore && before === null));
      box.append(group);
    }
    const help = inGroup ? helpDetails(item.help) : null;
    if (help) box.append(help);
    const why = inGroup ? whyDetails(item.why) : null;
    if (why) box.append(why);
    return box;
  }

  function showScreen(step) {
    const question = step.question;
    const items = itemsOf(question);
    const group = items.length > 1;
    const fieldset = $("questions");
    fieldset.replaceChildren(el("legend", { id: "screen-title", tabindex: "-1" }, group ? question.text : items[0].text));
    const help = helpDetails(group ? question.help : items[0].help);
    if (help) fieldset.append(help);
    const why = whyDetails(group ? question.why : (items[0].why || question.why));
    if (why) fieldset.append(why);
    if (group && items.every((item) => item.type === "boolean")) {
      const none = el("button", { type: "button", className: "secondary", id: "none-of-these" }, "I have none of these");
      none.addEventListener("click", () => {
        // Only the items not yet answered become No: a Yes already ticked is never overwritten.
        const yes = [];
        for (const item of items) {
          const picked = document.querySelector(`input[name="q-${item.id}"]:checked`);
          if (!picked) document.getElementById(`q-${item.id}-no`).checked = true;
          else if (picked.value === "yes") yes.push(item.text);
        }
        if (yes.length) showProblems([`You answered Yes to: ${yes.join(" ")} Those stay Yes; the others are now No.`]);
        $("next").focus();
      });
      fieldset.append(el("p", {}, none));
      fieldset.append(el("p", { className: "hint" }, "Anything you leave unticked counts as \"I don't know\", never as No."));
    }
    items.forEach((item) => fieldset.append(renderItem(item, group)));
    const more = step.remaining > items.length ? `, up to ${step.remaining - items.length} more after this` : "";
    $("progress").textContent = `Question ${question.number}${group ? ` to ${question.number + items.length - 1}` : ""}${more}`;
    $("problems").hidden = true;
    $("back").disabled = state.history.length === 0;
    $("result").hidden = true;
    $("screen").hidden = false;
    state.prefill = {};
    $("screen-title").focus({ preventScroll: true });
    $("progress").scrollIntoView({ block: "start" });
  }

  function collect(items, group) {
    const values = {};
    const problems = [];
    for (const item of items) {
      const name = `q-${item.id}`;
      if (item.type === "integer") {
        const unknown = document.getElementsByName(`${name}-unknown`)[0];
        const raw = document.getElementsByName(name)[0].value.trim();
        if (unknown && unknown.checked && raw === "") { values[item.id] = null; continue; }
        if (!/^[0-9]+$/.test(raw) || Number(raw) < item.min || Number(raw) > item.max) {
          problems.push(`${item.text} Please give a whole number from ${item.min} to ${item.max}` +
                        (item.required ? "." : ", or tick \"I don't know\"."));
          continue;
        }
        values[item.id] = Number(raw);
        continue;
      }
      const picked = document.querySelector(`input[name="${name}"]:checked`);
      if (!picked && group && !item.required) {
        values[item.id] = null;  // left unticked on a list: don't know, never no
      } else if (!picked) {
        problems.push(`${item.text} Please choose an answer${item.required ? "" : " (or Don't know)"}.`);
      } else if (picked.value === "unknown") {
        values[item.id] = null;
      } else if (item.type === "boolean") {
        values[item.id] = picked.value === "yes";
      } else {
        values[item.id] = item.choices[Number(picked.value)].value;
      }
    }
    return { values, problems };
  }

  function showProblems(lines) {
    const box = $("problems");
    box.replaceChildren(...lines.map((line) => el("p", {}, line)));
    box.hidden = false;
    box.focus();
  }

  async function submitScreen(event) {
    event.preventDefault();
    const items = itemsOf(state.step.question);
    const { values, problems } = collect(items, state.step.question.kind === "group");
    if (problems.length) { showProblems(problems); return; }
    const entry = { ids: Object.keys(values), values, acknowledged: state.acknowledged, details: state.details };
    const before = { ...state.answers };
    for (const [id, value] of Object.entries(values)) { delete state.answers[id]; state.answers[id] = value; }
    state.history.push(entry);
    const error = await advance();
    if (error) {
      state.history.pop();
      state.answers = before;
      showProblems([error.invalid ? error.message : `${error.message} Please try again.`]);
    }
  }

  // ------------------------------------------------------------------ going back and on

  async function back() {
    const entry = state.history.pop();
    if (!entry) return;
    for (const id of entry.ids) delete state.answers[id];
    state.acknowledged = entry.acknowledged;
    state.details = entry.details;
    state.prefill = entry.values;
    const error = await advance();
    if (error) fail(error.message);
  }

  async function goOn(details) {
    state.history.push({ ids: [], values: {}, acknowledged: state.acknowledged, details: state.details });
    if (details) state.details = true; else state.acknowledged = state.step.urgency;
    const error = await advance();
    if (error) { state.history.pop(); fail(error.message); }
  }

  // ------------------------------------------------------------------ the result

  function describe(evidence) {
    if (evidence.fact) return evidence.fact.replace(/_/g, " ");
    const question = state.questions[evidence.field];
    let value = evidence.value === true ? "yes" : evidence.value === false ? "no" : String(evidence.value);
    if (question && question.choices) {
      const choice = question.choices.find((c) => c.value === evidence.value);
      if (choice) value = choice.label;
    }
    return question ? `${question.text} ${value}` : `${evidence.field}: ${value}`;
  }

  function questions(count) {
    return `${count} more question${count === 1 ? "" : "s"}`;
  }

  function section(title, items) {
    if (!items.length) return [];
    return [el("h3", {}, title), el("ul", {}, ...items)];
  }

  function showResult(step) {
    const a = step.assessment;
    $("result-banner").className = `banner ${a.urgency}`;
    // Out of scope is said as such, as the terminal says it, not as a plain level.
    const heading = a.out_of_scope ? "Not covered by this tool" : (LEVELS[a.urgency] || a.urgency);
    const unchecked = (a.warnings || []).length ? ", red flags not checked" : "";
    $("result-level").textContent = `${heading}${unchecked} (${a.urgency})`;
    // Right under the action, before any button: a result made without the safety pack says so.
    $("result-warnings").replaceChildren(...(a.warnings || []).map((text) =>
      el("p", { className: "warning", role: "alert" }, el("strong", {}, `Warning: ${text}`))));
    $("result-action").textContent = a.action;
    $("stopped").hidden = !step.stopped_early;
    $("stopped-text").textContent = step.stopped_early
      ? `That needs action now: do what it says above. Up to ${questions(step.remaining)} can complete the picture.` : "";
    $("go-on").hidden = !step.stopped_early;
    $("details").hidden = !(step.more_details > 0);
    $("details").textContent = `Answer ${questions(step.more_details)} about habits (optional)`;
    $("change").disabled = state.history.length === 0;
    const body = [
      ...section("Warning signs found", a.red_flags.map((f) => el("li", {}, f.reason))),
      ...section("Likely causes", a.causes.map((c) => el("li", {}, el("strong", {}, c.label),
        el("span", { className: "because" }, ` because: ${c.evidence.map(describe).join("; ") || "your answers"}`)))),
      ...section("What you can do", a.advice.map((item) => el("li", {}, item.text,
        item.evidence ? el("span", { className: "because" }, ` (${item.evidence})`) : null))),
      ...section("Warning signs you did not answer (not ruled out: get help if you have any of these)",
        a.unanswered_red_flags.map((q) => el("li", {}, q.text))),
      ...section("Get help if", a.worsening_advice.map((text) => el("li", {}, text))),
      el("p", { className: "disclaimer" }, el("strong", {}, a.disclaimer)),
    ];
    $("result-body").replaceChildren(...body);
    $("progress").textContent = "";
    $("screen").hidden = true;
    $("result").hidden = false;
    $("result").focus({ preventScroll: true });
    $("result").scrollIntoView({ block: "start" });  // the action first, whatever was scrolled before
  }

  function fail(message) {
    const box = $("failure");
    box.textContent = `${message} If you are worried, contact your midwife or maternity unit now.`;
    box.hidden = false;
  }

  function restart() {
    Object.assign(state, { answers: {}, acknowledged: null, details: false, history: [], prefill: {} });
    advance().then((error) => error && fail(error.message));
  }

  async function start() {
    $("screen").addEventListener("submit", submitScreen);
    $("back").addEventListener("click", back);
    $("change").addEventListener("click", back);
    $("go-on").addEventListener("click", () => goOn(false));
    $("details").addEventListener("click", () => goOn(true));
    $("restart").addEventListener("click", restart);
    try {
      const response = await fetch("questions");
      for (const question of await response.json()) state.questions[question.id] = question;
    } catch (error) { /* reasons then name the fields instead of the questions */ }
    restart();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
