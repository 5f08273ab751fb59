/* The cron builder: builder controls <-> cron expression, both directions.
 *
 * Form -> expression: `expressionFrom(state)` mirrors
 * automations/scheduling.py:expression_from_builder. Expression -> form: the
 * server's `builder_state` arrives with the preview (automations:cron_preview),
 * which also validates, describes and lists the next runs, so the rules of
 * cron live in one place (scheduling.py). No build step, no inline script (CSP).
 */
(function () {
  "use strict";

  var FIELDS = [
    { key: "minute", label: "Minute", low: 0, high: 59 },
    { key: "hour", label: "Hour", low: 0, high: 23 },
    { key: "day", label: "Day of month", low: 1, high: 31 },
    { key: "month", label: "Month", low: 1, high: 12,
      names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] },
    { key: "weekday", label: "Day of week", low: 0, high: 6,
      names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
  ];

  function whole(value, low, high, what) {
    var text = String(value).trim();
    if (!/^[0-9]+$/.test(text)) throw new Error(what + ": enter a whole number");
    var number = parseInt(text, 10);
    if (number < low || number > high) {
      throw new Error(what + ": " + number + " is out of range " + low + "-" + high);
    }
    return number;
  }

  function sortedUnique(values) {
    var seen = {};
    return values.filter(function (v) { return seen[v] ? false : (seen[v] = true); })
      .sort(function (a, b) { return a - b; });
  }

  function compress(days) {
    var runs = [];
    days.forEach(function (day) {
      var last = runs[runs.length - 1];
      if (last && day === last[last.length - 1] + 1) last.push(day);
      else runs.push([day]);
    });
    return runs.map(function (run) {
      return run.length >= 3 ? run[0] + "-" + run[run.length - 1] : run.join(",");
    }).join(",");
  }

  function presetExpression(s) {
    if (s.preset === "minutes") return "*/" + whole(s.interval, 1, 59, "Minutes") + " * * * *";
    var minute = whole(s.minute, 0, 59, "Minute");
    if (s.preset === "hourly") return minute + " * * * *";
    var hour = whole(s.hour, 0, 23, "Hour");
    if (s.preset === "daily") return minute + " " + hour + " * * *";
    if (s.preset === "weekly") {
      var days = sortedUnique(s.weekdays.map(function (d) { return whole(d, 0, 6, "Day"); }));
      if (!days.length) throw new Error("Choose at least one day of the week.");
      return minute + " " + hour + " * * " + compress(days);
    }
    if (s.preset === "monthly") return minute + " " + hour + " " + whole(s.day, 1, 31, "Day") + " * *";
    throw new Error("Unknown schedule preset.");
  }

  function spell(value, field, spec) {
    var style = field.names ? spec.names || "numbers" : "numbers";
    if (style === "numbers") return String(value);
    var name = field.names[value - field.low];
    if (style === "upper") return name.toUpperCase();
    if (style === "title") return name.charAt(0).toUpperCase() + name.slice(1);
    return name;
  }

  function fieldText(spec, field) {
    if (spec.kind === "every") return "*";
    if (spec.kind === "step") return "*/" + whole(spec.step, 1, field.key === "weekday" ? 7 : field.high, field.label);
    if (spec.kind === "values") {
      var values = sortedUnique(spec.values.map(function (v) { return whole(v, field.low, field.high, field.label); }));
      if (!values.length) throw new Error(field.label + ": choose at least one value.");
      return values.map(function (v) { return spell(v, field, spec); }).join(",");
    }
    if (spec.kind === "range") {
      var start = whole(spec.start, field.low, field.high, field.label);
      var end = whole(spec.end, field.low, field.high, field.label);
      if (start >= end) throw new Error(field.label + ": the range must run from a lower to a higher value.");
      return spell(start, field, spec) + "-" + spell(end, field, spec);
    }
    throw new Error(field.label + ": choose which values.");
  }

  /* The expression a builder state produces; throws Error(reason) when incomplete. */
  function expressionFrom(state) {
    if (state.mode === "preset") return presetExpression(state);
    if (state.mode === "advanced") {
      return FIELDS.map(function (f) { return fieldText(state.fields[f.key], f); }).join(" ");
    }
    throw new Error("Type the expression: the builder cannot express it.");
  }

  /* Preset -> the advanced controls for the same schedule. */
  function advancedFrom(s) {
    var every = { kind: "every" };
    var fields = { minute: every, hour: every, day: every, month: every, weekday: every };
    var one = function (v) { return { kind: "values", values: [Number(v)] }; };
    if (s.preset === "minutes") fields.minute = { kind: "step", step: Number(s.interval) };
    else fields.minute = one(s.minute);
    if (["daily", "weekly", "monthly"].indexOf(s.preset) >= 0) fields.hour = one(s.hour);
    if (s.preset === "weekly") fields.weekday = { kind: "values", values: s.weekdays.map(Number) };
    if (s.preset === "monthly") fields.day = one(s.day);
    return { mode: "advanced", fields: fields };
  }

  function Builder(root) {
    this.root = root;
    this.input = root.querySelector("[data-role=expression]");
    this.controls = root.querySelector("[data-role=controls]");
    this.names = {};  // how month/weekday values are spelled (kept from the parsed expression)
    this.requested = 0;
    var initial = JSON.parse(root.dataset.state);
    this.advanced = initial.advanced;
    this.controls.hidden = false;
    this.bind();
    if (this.input.value.trim()) {
      this.show(initial.builder);
      this.preview(false);
    } else {
      // A new schedule starts as a sensible preset rather than an empty field.
      this.show({ mode: "preset", preset: "daily", hour: 9, minute: 0 });
      this.fromControls();
    }
  }

  Builder.prototype.q = function (selector) { return this.root.querySelector(selector); };
  Builder.prototype.all = function (selector) {
    return Array.prototype.slice.call(this.root.querySelectorAll(selector));
  };
  Builder.prototype.fieldBox = function (key) { return this.q("[data-field=" + key + "]"); };

  Builder.prototype.bind = function () {
    var self = this;
    var timer = null;
    this.input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.preview(true); }, 250);
    });
    this.all("[data-role=mode]").forEach(function (radio) {
      radio.addEventListener("change", function () { self.switchMode(radio.value); });
    });
    var panels = this.q("[data-role=preset-panel]").parentNode;
    ["change", "input"].forEach(function (type) {
      panels.addEventListener(type, function (event) {
        if (event.target.dataset.role === "mode") return;
        self.syncVisibility();
        self.fromControls();
      });
    });
  };

  Builder.prototype.mode = function () {
    var checked = this.q("[data-role=mode]:checked");
    return checked ? checked.value : "custom";
  };

  Builder.prototype.switchMode = function (mode) {
    var current = this.read(mode === "advanced" ? "preset" : "advanced");
    if (mode === "advanced") {
      this.showAdvanced(this.advanced || (current.mode === "preset" ? advancedFrom(current) : null));
    }
    this.q("[data-role=custom-note]").hidden = true;
    this.syncVisibility();
    this.fromControls();
  };

  /* Read the controls of one mode into a builder state. */
  Builder.prototype.read = function (mode) {
    var self = this;
    if (mode === "preset") {
      return {
        mode: "preset",
        preset: this.q("[data-role=preset]").value,
        interval: this.q("[data-role=interval]").value,
        minute: this.q("[data-role=minute]").value,
        hour: this.q("[data-role=hour]").value,
        day: this.q("[data-role=day]").value,
        weekdays: this.all("[data-role=weekday]:checked").map(function (box) { return box.value; }),
      };
    }
    var fields = {};
    FIELDS.forEach(function (field) {
      var box = self.fieldBox(field.key);
      var kind = box.querySelector("[data-role=kind]:checked");
      var spec = {
        kind: kind ? kind.value : "every",
        step: box.querySelector("[data-role=step]").value,
        values: Array.prototype.map.call(box.querySelector("[data-role=values]").selectedOptions,
          function (option) { return option.value; }),
        start: box.querySelector("[data-role=start]").value,
        end: box.querySelector("[data-role=end]").value,
      };
      if (field.names) spec.names = self.names[field.key] || "numbers";
      fields[field.key] = spec;
    });
    return { mode: "advanced", fields: fields };
  };

  /* Builder controls changed: write the expression they produce. */
  Builder.prototype.fromControls = function () {
    var expression;
    try {
      expression = expressionFrom(this.read(this.mode()));
    } catch (error) {
      this.requested++;  // an answer still on its way is about an older expression
      this.report({ valid: false, error: error.message });
      return;
    }
    this.advanced = null;
    this.input.value = expression;
    this.preview(false);
  };

  /* Ask the server to validate and describe the expression; `fill` the controls from it. */
  Builder.prototype.preview = function (fill) {
    var self = this;
    var expression = this.input.value;
    var ticket = ++this.requested;
    var url = this.root.dataset.previewUrl + "?expression=" + encodeURIComponent(expression);
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("The schedule could not be checked (" + response.status + ").");
        return response.json();
      })
      .then(function (answer) {
        if (ticket !== self.requested) return;  // a newer request is on its way
        if (fill && answer.valid) {
          self.advanced = answer.advanced;
          self.show(answer.builder);
        }
        self.report(answer);
      })
      .catch(function (error) {
        if (ticket === self.requested) self.report({ valid: false, error: error.message });
      });
  };

  Builder.prototype.report = function (answer) {
    this.q("[data-role=description]").textContent = answer.valid ? answer.description : "";
    this.q("[data-role=error]").textContent = answer.valid ? "" : answer.error;
    this.input.classList.toggle("is-invalid", !answer.valid);
    this.input.setAttribute("aria-invalid", answer.valid ? "false" : "true");
    var box = this.q("[data-role=runs-box]");
    box.hidden = !answer.valid;
    if (!answer.valid) return;
    this.q("[data-role=zone]").textContent = answer.time_zone;
    var list = this.q("[data-role=runs]");
    list.textContent = "";
    answer.next_runs.forEach(function (run) {
      var item = document.createElement("li");
      item.textContent = run;
      list.appendChild(item);
    });
  };

  /* Expression -> form: put a builder state into the controls. */
  Builder.prototype.show = function (state) {
    this.all("[data-role=mode]").forEach(function (radio) {
      radio.checked = radio.value === state.mode;
    });
    this.q("[data-role=custom-note]").hidden = state.mode !== "custom" || !this.input.value.trim();
    if (state.mode === "preset") this.showPreset(state);
    if (state.mode === "advanced") this.showAdvanced(state);
    this.syncVisibility();
  };

  Builder.prototype.showPreset = function (s) {
    var set = function (role, value) {
      if (value !== undefined) this.q("[data-role=" + role + "]").value = value;
    }.bind(this);
    set("preset", s.preset);
    set("interval", s.interval);
    set("minute", s.minute);
    set("hour", s.hour);
    set("day", s.day);
    var days = (s.weekdays || []).map(String);
    this.all("[data-role=weekday]").forEach(function (box) {
      box.checked = days.indexOf(box.value) >= 0;
    });
  };

  Builder.prototype.showAdvanced = function (state) {
    var self = this;
    if (!state) return;
    FIELDS.forEach(function (field) {
      var spec = state.fields[field.key];
      var box = self.fieldBox(field.key);
      box.querySelectorAll("[data-role=kind]").forEach(function (radio) {
        radio.checked = radio.value === spec.kind;
      });
      if (spec.kind === "step") box.querySelector("[data-role=step]").value = spec.step;
      var chosen = (spec.values || []).map(String);
      Array.prototype.forEach.call(box.querySelector("[data-role=values]").options, function (o) {
        o.selected = spec.kind === "values" && chosen.indexOf(o.value) >= 0;
      });
      if (spec.kind === "range") {
        box.querySelector("[data-role=start]").value = spec.start;
        box.querySelector("[data-role=end]").value = spec.end;
      }
      if (field.names) self.names[field.key] = spec.names || "numbers";
    });
  };

  /* Show only the controls that matter for the chosen mode, preset and kinds. */
  Builder.prototype.syncVisibility = function () {
    var mode = this.mode();
    var preset = this.q("[data-role=preset]").value;
    this.q("[data-role=preset-panel]").hidden = mode !== "preset";
    this.q("[data-role=advanced-panel]").hidden = mode !== "advanced";
    this.all("[data-show]").forEach(function (part) {
      part.hidden = part.dataset.show.split(" ").indexOf(preset) < 0;
    });
    this.all("[data-field]").forEach(function (box) {
      var kind = box.querySelector("[data-role=kind]:checked");
      box.querySelectorAll("[data-kind]").forEach(function (part) {
        part.hidden = !kind || part.dataset.kind !== kind.value;
      });
    });
  };

  function start() {
    document.querySelectorAll("[data-cron-builder]").forEach(function (root) { new Builder(root); });
  }

  window.CronBuilder = { expressionFrom: expressionFrom, advancedFrom: advancedFrom };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
