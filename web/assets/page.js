/*
 * twaudit status page: renders /advice and /api/history, refreshing every
 * few seconds. No framework, no network access but this server. All text
 * from the server goes in through textContent, never as markup.
 */
(function () {
	"use strict";

	var REFRESH_MS = 5000;
	var SVG = "http://www.w3.org/2000/svg";
	var CHARTS = [
		{ key: "PAWSPassive", title: "PAWSPassive", unit: "/min",
		  help: "SYNs dropped by the tw_recycle per-peer timestamp check" },
		{ key: "PAWSTimewait", title: "PAWSTimewait", unit: "/min",
		  help: "Segments a TIME-WAIT socket refused for an old timestamp (6.16+)" },
		{ key: "ListenDrops", title: "ListenDrops", unit: "/min",
		  help: "SYNs to listening sockets dropped, for any reason" },
		{ key: "TimeWaitSockets", title: "TIME-WAIT sockets", unit: "", gauge: true,
		  help: "Sockets in TIME-WAIT (sockstat tw)" }
	];
	var SEVERITIES = ["critical", "warning", "unknown", "info"];

	function $(id) { return document.getElementById(id); }

	/* h("div", {class: "x"}, child, "text", ...): a DOM element. */
	function h(tag, attrs) {
		var el = document.createElement(tag), i, k;
		for (k in attrs || {}) {
			if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] != null)
				el.setAttribute(k, attrs[k]);
		}
		for (i = 2; i < arguments.length; i++) add(el, arguments[i]);
		return el;
	}
	/* Append C: a node, text, or an array of those; null and false skipped. */
	function add(el, c) {
		if (c == null || c === false) return;
		if (Array.isArray(c)) c.forEach(function (x) { add(el, x); });
		else el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
	}
	function s(tag, attrs) {
		var el = document.createElementNS(SVG, tag), k;
		for (k in attrs) el.setAttribute(k, attrs[k]);
		return el;
	}
	function replace(id, node) {
		var el = $(id);
		while (el.firstChild) el.removeChild(el.firstChild);
		if (node) el.appendChild(node);
	}

	/*
	 * A figure (a rate, an estimate) to 3 significant digits, no exponent,
	 * no trailing zeros: 12.3456 -> "12.3", 1234.5 -> "1230". The server's
	 * page_format_figure() does the same for the page without JavaScript.
	 */
	function fig(v) {
		var e, d, t, unit;
		if (typeof v !== "number" || !isFinite(v)) return "—";
		if (v === 0) return "0";
		e = Math.floor(Math.log10(Math.abs(v)));
		d = 2 - e;
		if (d > 0) {
			t = v.toFixed(Math.min(d, 15));
			t = t.replace(/0+$/, "").replace(/\.$/, "");
		} else {
			unit = Math.pow(10, -d);
			t = String(Math.round(v / unit) * unit);
		}
		return t === "-0" ? "0" : t;
	}
	/* A count: exact. */
	function count(v) {
		return typeof v === "number" && isFinite(v) ? String(Math.round(v)) : "—";
	}
	/* A JSON value: integers exact, other numbers as figures. */
	function fmtValue(v) {
		if (Array.isArray(v)) return v.map(fmtValue).join(" ");
		if (v === null || v === undefined) return "—";
		if (typeof v === "number") return Number.isInteger(v) ? String(v) : fig(v);
		if (typeof v === "object") return JSON.stringify(v);
		return String(v);
	}
	/* A time of day in the browser's zone, the zone named ("UTC", "GMT+2"). */
	function clock(t) {
		var d = new Date(t * 1000);
		return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit",
			timeZoneName: "short" });
	}

	/* ---- findings ---- */

	function rateText(r) {
		if (!r) return "";
		if (!r.evaluated) return "rate not evaluated yet";
		return fig(r.per_min) + "/min over " + r.window;
	}

	/* Evidence as "path: value" rows, with the shapes of docs/findings.md made readable. */
	function evidenceRows(ev) {
		var rows = [];
		function leaf(path, v) { rows.push([path, v]); }
		function flat(x) {
			return x && typeof x === "object" && !Array.isArray(x) &&
				Object.keys(x).every(function (k) { return x[k] === null || typeof x[k] !== "object"; });
		}
		function walk(path, v, depth) {
			if (v === null || typeof v !== "object") { leaf(path, fmtValue(v)); return; }
			if (Array.isArray(v)) {
				if (v.every(function (x) { return x === null || typeof x !== "object"; })) {
					leaf(path, v.length ? v.map(fmtValue).join(", ") : "none");
					return;
				}
				if (v.every(flat)) {
					/* One row per item: {name, ...} or {file, line, ...}. */
					v.forEach(function (x, i) {
						var label = x.name != null ? x.name : x.file != null ?
							x.file + ":" + x.line : path + " [" + (i + 1) + "]";
						leaf(label, Object.keys(x).filter(function (k) {
							return k !== "name" && !(x.name == null && (k === "file" || k === "line"));
						}).map(function (k) {
							return k === "file" ? x.file + ":" + x.line : k === "line" ? null :
								k.replace(/_/g, " ") + " " + fmtValue(x[k]);
						}).filter(Boolean).join(" · "));
					});
					return;
				}
				v.forEach(function (x, i) { walk(path + " [" + (i + 1) + "]", x, depth + 1); });
				return;
			}
			if (depth === 0) {
				Object.keys(v).forEach(function (k) { walk(k, v[k], 1); });
				return;
			}
			if ("state" in v && ("value" in v || "why" in v) && Object.keys(v).length <= 4) {
				leaf(path, v.state === "present" ? fmtValue(v.value) +
					(v.assumed !== undefined ? " (assumed)" : "") :
					v.state + (v.why ? ": " + v.why : ""));
				return;
			}
			if ("present" in v && ("total" in v || v.present === false)) {
				leaf(path, v.present ? "total " + fmtValue(v.total) +
					(v.rate ? " · " + rateText(v.rate) : "") : "not present");
				return;
			}
			if ("file" in v && "line" in v && "value" in v && typeof v.value !== "object") {
				leaf(path, v.file === null ? "no file sets it" :
					"'" + v.value + "' at " + v.file + ":" + v.line);
				return;
			}
			if (depth > 4) { leaf(path, JSON.stringify(v)); return; }
			Object.keys(v).forEach(function (k) {
				walk(path ? path + " › " + k : k, v[k], depth + 1);
			});
		}
		walk("", ev || {}, 0);
		return rows;
	}

	/* Copy sits beside the command (.cmd is a flex row), never over it. */
	function copyButton(text) {
		var b = h("button", { type: "button", title: "Copy to clipboard" }, "Copy");
		b.addEventListener("click", function () {
			function done() { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500); }
			if (navigator.clipboard && window.isSecureContext) {
				navigator.clipboard.writeText(text).then(done, function () {});
			} else {
				var sel = window.getSelection(), r = document.createRange();
				r.selectNodeContents(b.previousSibling);
				sel.removeAllRanges(); sel.addRange(r);
				try { document.execCommand("copy"); done(); } catch (e) { /* selected at least */ }
			}
		});
		return b;
	}

	/* OPEN: "f-ID class" of the <details> the reader opened; kept on refresh. */
	function findingCard(f, open) {
		var rem = f.remediation || {}, art, rows;
		art = h("article", { "class": "finding sev-" + f.severity, id: "f-" + f.id },
			h("header", null,
				h("span", { "class": "badge " + f.severity }, f.severity),
				h("h3", { "class": "title" }, f.title),
				h("code", { "class": "fid" }, f.id)),
			h("p", { "class": "expl" }, f.explanation));
		if (rem.runtime && rem.runtime.length) {
			var text = rem.runtime.join("\n");
			art.appendChild(h("div", { "class": "block" }, h("h4", null, "Run now"),
				h("div", { "class": "cmd" }, h("pre", null, h("code", null, text)), copyButton(text))));
		}
		if (rem.persist && rem.persist.length) {
			art.appendChild(h("div", { "class": "block" }, h("h4", null, "Make it persistent"),
				h("ul", { "class": "persist" }, rem.persist.map(function (p) { return h("li", null, p); }))));
		}
		rows = evidenceRows(f.evidence);
		if (rows.length) {
			var dl = h("dl", { "class": "ev" });
			rows.forEach(function (r) { dl.appendChild(h("dt", null, r[0])); dl.appendChild(h("dd", null, r[1])); });
			/* Collapsed unless the reader opened it. */
			art.appendChild(h("details", { "class": "evidence", open: open["f-" + f.id + " evidence"] ? "" : null },
				h("summary", null, "Evidence"), dl));
		}
		if (rem.caveats && rem.caveats.length) {
			art.appendChild(h("details", { "class": "caveats", open: open["f-" + f.id + " caveats"] ? "" : null },
				h("summary", null, "Caveats (" + rem.caveats.length + ")"),
				h("ul", null, rem.caveats.map(function (c) { return h("li", null, c); }))));
		}
		return art;
	}

	function renderFindings(a) {
		var list = (a.findings || []).slice().sort(function (x, y) {
			return SEVERITIES.indexOf(x.severity) - SEVERITIES.indexOf(y.severity);
		});
		var box = h("div"), open = {};
		Array.prototype.forEach.call(document.querySelectorAll("#findings article details[open]"), function (d) {
			open[d.parentNode.id + " " + d.className] = true;
		});
		if (!list.length)
			box.appendChild(h("p", { "class": "empty" }, "No findings: nothing on this host makes SYNs vanish."));
		list.forEach(function (f) { box.appendChild(findingCard(f, open)); });
		replace("findings", box);
	}

	/* ---- status, sysctls, sources ---- */

	function renderStatus(a) {
		var st = $("status"), counts = {}, parts = [], n = (a.findings || []).length;
		st.textContent = a.status;
		st.className = "badge big " + a.status;
		$("hero").className = "hero st-" + a.status;
		$("host").textContent = a.host;
		$("kernel").textContent = a.kernel_release;
		(a.findings || []).forEach(function (f) { counts[f.severity] = (counts[f.severity] || 0) + 1; });
		parts.push(n + " finding" + (n === 1 ? "" : "s"));
		SEVERITIES.forEach(function (sv) { if (counts[sv]) parts.push(counts[sv] + " " + sv); });
		$("summary").textContent = parts.join(" · ");
		document.title = a.status + " · " + a.host + " · twaudit";
	}

	function driftSet(a) {
		var set = {};
		(a.findings || []).forEach(function (f) {
			if (f.id === "sysctl_drift" && f.evidence && Array.isArray(f.evidence.keys))
				f.evidence.keys.forEach(function (k) { set[k.name] = k; });
		});
		return set;
	}

	function renderSysctls(a) {
		var keys = ((a.sources || {}).sysctl || {}).keys || {}, drift = driftSet(a), tbody = h("tbody");
		var names = Object.keys(keys);
		if (!names.length) { replace("sysctls", h("p", { "class": "empty" }, "The sysctl source has no keys.")); return; }
		names.forEach(function (name) {
			var k = keys[name], p = k.persisted, state, running, persisted;
			running = k.state === "present" ? fmtValue(k.value) : k.state;
			persisted = p ? [h("span", { "class": "num" }, p.value), " ",
				h("span", { "class": "where" }, p.file + ":" + p.line)] :
				h("span", { "class": "muted" }, "kernel default");
			if (drift[name]) state = h("span", { "class": "pill drift" }, "drift");
			else if (k.state !== "present") state = h("span", { "class": "pill off" }, k.state);
			else if (p) state = h("span", { "class": "pill same" }, "in sync");
			else state = h("span", { "class": "pill off" }, "not persisted");
			tbody.appendChild(h("tr", { "class": drift[name] ? "drift" : null, "data-key": name },
				h("td", null, h("code", null, name)),
				h("td", { "class": "num", title: k.why || null }, running),
				h("td", null, persisted), h("td", null, state)));
		});
		replace("sysctls", h("div", { "class": "scroll" }, h("table", { "class": "sysctls" },
			h("thead", null, h("tr", null, h("th", null, "Key"), h("th", null, "Running"),
				h("th", null, "Persisted (next boot)"), h("th", null, "State"))), tbody)));
	}

	function renderSources(a) {
		var ul = h("ul", { "class": "sources" }), src = a.sources || {};
		Object.keys(src).forEach(function (name) {
			var v = src[name];
			ul.appendChild(h("li", null, h("span", { "class": "dot " + v.state }), h("b", null, name), " ",
				h("span", { "class": "muted" }, v.state),
				v.error ? [" ", h("span", { "class": "err" }, v.error)] : null));
		});
		replace("sources", ul);
	}

	/* ---- model ---- */

	function lastRate(hist, key) {
		var v = hist && hist.series && hist.series[key], i;
		for (i = v ? v.length - 1 : -1; i >= 0; i--) if (v[i] != null) return v[i];
		return null;
	}

	function renderModel(a, hist) {
		var m = a.model, box, srcs, cols = [], tbody;
		if (!m) {
			/* What the sampler source says, as the server writes it. */
			var smp = (a.sources || {}).sampler || {};
			replace("model", h("p", { "class": "empty", id: "model-state" }, smp.state === "ok" ?
				"The live sampler runs; the model has no estimate yet." :
				"The model is not running: the live sampler is " + (smp.state || "not reported") +
				(smp.error ? " — " + smp.error : "") +
				". With it (--sampler.enabled), this shows the NAT sources at risk and the rejections it predicts."));
			return;
		}
		box = h("div", null, h("div", { "class": "kpis" },
			h("div", { "class": "kpi" }, h("div", { "class": "v", id: "model-predicted" }, fig(m.predicted_rejections_per_min)),
				h("div", { "class": "k" }, "predicted rejections / min")),
			h("div", { "class": "kpi" }, h("div", { "class": "v", id: "model-observed" }, fig(lastRate(hist, "PAWSPassive"))),
				h("div", { "class": "k" }, "observed PAWSPassive / min")),
			h("div", { "class": "kpi" }, h("div", { "class": "v" }, "1:" + m.sampling_ratio),
				h("div", { "class": "k" }, "SYN sampling ratio")),
			h("div", { "class": "kpi" }, h("div", { "class": "v" }, String((m.nat_sources || []).length)),
				h("div", { "class": "k" }, "NAT sources at risk"))));
		srcs = (m.nat_sources || []).slice(0, 25);
		srcs.forEach(function (r) {
			if (r && typeof r === "object" && !Array.isArray(r))
				Object.keys(r).forEach(function (k) { if (cols.indexOf(k) < 0 && cols.length < 8) cols.push(k); });
		});
		if (srcs.length) {
			tbody = h("tbody");
			srcs.forEach(function (r) {
				var obj = r && typeof r === "object" && !Array.isArray(r);
				tbody.appendChild(h("tr", null, (obj ? cols : [null]).map(function (c) {
					return h("td", { "class": "num" }, fmtValue(obj ? r[c] : r));
				})));
			});
			box.appendChild(h("div", { "class": "scroll" }, h("table", { "class": "nat" },
				h("thead", null, h("tr", null, (cols.length ? cols : ["source"]).map(function (c) {
					return h("th", null, c.replace(/_/g, " "));
				}))), tbody)));
		} else {
			box.appendChild(h("p", { "class": "empty" }, "No NAT source at risk."));
		}
		replace("model", box);
	}

	/* ---- charts ---- */

	function sparkline(times, values) {
		var W = 300, H = 56, pad = 3, t0 = times[0], t1 = times[times.length - 1];
		var max = 0, svg, segs = [], cur = [], i, x, y;
		values.forEach(function (v) { if (v != null && v > max) max = v; });
		if (max <= 0) max = 1;
		max *= 1.08;
		svg = s("svg", { "class": "spark", viewBox: "0 0 " + W + " " + H, preserveAspectRatio: "none", role: "img" });
		svg.appendChild(s("line", { "class": "base", x1: 0, x2: W, y1: H - pad, y2: H - pad }));
		for (i = 0; i < values.length; i++) {
			if (values[i] == null) { if (cur.length) segs.push(cur); cur = []; continue; }
			x = t1 > t0 ? (times[i] - t0) / (t1 - t0) * W : W;
			y = H - pad - values[i] / max * (H - 2 * pad);
			cur.push(x.toFixed(1) + "," + y.toFixed(1));
		}
		if (cur.length) segs.push(cur);
		segs.forEach(function (seg) {
			if (seg.length === 1) seg.push(seg[0]);
			var first = seg[0].split(","), last = seg[seg.length - 1].split(",");
			svg.appendChild(s("polygon", { "class": "area",
				points: first[0] + "," + (H - pad) + " " + seg.join(" ") + " " + last[0] + "," + (H - pad) }));
			svg.appendChild(s("polyline", { "class": "line", points: seg.join(" ") }));
		});
		return svg;
	}

	function renderCharts(hist) {
		var times = (hist && hist.time) || [], grid = document.createDocumentFragment(), span;
		var gauges = (hist && hist.gauges) || {}, series = (hist && hist.series) || {};
		CHARTS.forEach(function (c) {
			var vals = c.gauge ? gauges[c.key] : series[c.key], cur = null, card, sub, i, peak = 0;
			if (!vals) return;
			for (i = vals.length - 1; i >= 0; i--) if (vals[i] != null) { cur = vals[i]; break; }
			vals.forEach(function (v) { if (v != null && v > peak) peak = v; });
			var hot = !c.gauge && cur != null && cur > 0, absent = cur == null && times.length >= 2;
			var num = c.gauge ? count : fig;
			sub = h("div", { "class": "sub" }, h("span", null, times.length ? clock(times[0]) : ""),
				h("span", null, absent ? "counter absent" : "peak " + num(peak) + c.unit));
			card = h("div", { "class": "chart" + (hot ? " hot" : ""), id: "chart-" + c.key, title: c.help },
				h("div", { "class": "ct" }, h("span", { "class": "name" }, c.title),
					h("span", { "class": "cur" + (hot ? " hot" : "") + (absent ? " muted" : "") },
						absent ? "n/a" : num(cur) + c.unit)));
			if (absent) {
				card.appendChild(h("div", { "class": "spark none muted small" },
					"not counted by this kernel" + (c.key === "PAWSTimewait" ? " (6.16+)" : "")));
			} else if (times.length >= 2) {
				var svg = sparkline(times, vals);
				hover(svg, sub, times, vals, c.unit, num);
				card.appendChild(svg);
			} else {
				card.appendChild(h("div", { "class": "spark muted small" }, "collecting (one point every " +
					((hist && hist.interval_seconds) || 5) + " s)…"));
			}
			card.appendChild(sub);
			grid.appendChild(card);
		});
		if (times.length >= 2) {
			span = Math.max(1, Math.round((times[times.length - 1] - times[0]) / 60));
			$("range").textContent = "per minute · last " + (span >= 60 ? "hour" : span + " min") +
				" · " + times.length + " points";
		}
		replace("charts", grid);
	}

	/* Hovering a chart shows the time and value under the pointer. */
	function hover(svg, sub, times, vals, unit, num) {
		var saved = null;
		svg.addEventListener("mousemove", function (e) {
			var r = svg.getBoundingClientRect(), f = (e.clientX - r.left) / r.width;
			var t = times[0] + f * (times[times.length - 1] - times[0]), best = 0, i;
			for (i = 1; i < times.length; i++) if (Math.abs(times[i] - t) < Math.abs(times[best] - t)) best = i;
			if (saved === null) saved = [sub.firstChild.textContent, sub.lastChild.textContent];
			sub.firstChild.textContent = clock(times[best]);
			sub.lastChild.textContent = num(vals[best]) + unit;
		});
		svg.addEventListener("mouseleave", function () {
			if (saved) { sub.firstChild.textContent = saved[0]; sub.lastChild.textContent = saved[1]; saved = null; }
		});
	}

	/* ---- refresh loop ---- */

	var lastAdvice = null, lastHistory = null, failures = 0;

	function render() {
		if (lastAdvice) {
			renderStatus(lastAdvice);
			renderFindings(lastAdvice);
			renderSysctls(lastAdvice);
			renderSources(lastAdvice);
			renderModel(lastAdvice, lastHistory);
			$("updated").textContent = "updated " + clock(Date.now() / 1000);
		}
		if (lastHistory) renderCharts(lastHistory);
	}

	function getJSON(url) {
		return fetch(url, { cache: "no-store", credentials: "same-origin" }).then(function (r) {
			if (!r.ok) throw new Error(url + ": HTTP " + r.status);
			return r.json();
		});
	}

	function refresh() {
		Promise.all([getJSON("/advice"), getJSON("/api/history")]).then(function (res) {
			lastAdvice = res[0];
			lastHistory = res[1];
			failures = 0;
			$("conn").textContent = "live · refreshes every " + REFRESH_MS / 1000 + " s";
			render();
		}, function (err) {
			failures++;
			$("conn").textContent = "cannot reach twaudit (" + err.message + "), retrying";
		}).then(function () {
			setTimeout(refresh, failures ? Math.min(30000, REFRESH_MS * failures) : REFRESH_MS);
		});
	}

	try {
		lastAdvice = JSON.parse($("initial-advice").textContent);
		render();
	} catch (e) {
		lastAdvice = null;
	}
	refresh();
})();
