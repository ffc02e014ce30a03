// node_modules/@lit/reactive-element/css-tag.js
var e = globalThis, t = e.ShadowRoot && (e.ShadyCSS === void 0 || e.ShadyCSS.nativeShadow) && "adoptedStyleSheets" in Document.prototype && "replace" in CSSStyleSheet.prototype, n = Symbol(), r = /* @__PURE__ */ new WeakMap(), i = class {
	constructor(e, t, r) {
		if (this._$cssResult$ = !0, r !== n) throw Error("CSSResult is not constructable. Use `unsafeCSS` or `css` instead.");
		this.cssText = e, this.t = t;
	}
	get styleSheet() {
		let e = this.o, n = this.t;
		if (t && e === void 0) {
			let t = n !== void 0 && n.length === 1;
			t && (e = r.get(n)), e === void 0 && ((this.o = e = new CSSStyleSheet()).replaceSync(this.cssText), t && r.set(n, e));
		}
		return e;
	}
	toString() {
		return this.cssText;
	}
}, a = (e) => new i(typeof e == "string" ? e : e + "", void 0, n), o = (e, ...t) => new i(e.length === 1 ? e[0] : t.reduce((t, n, r) => t + ((e) => {
	if (!0 === e._$cssResult$) return e.cssText;
	if (typeof e == "number") return e;
	throw Error("Value passed to 'css' function must be a 'css' function result: " + e + ". Use 'unsafeCSS' to pass non-literal values, but take care to ensure page security.");
})(n) + e[r + 1], e[0]), e, n), s = (n, r) => {
	if (t) n.adoptedStyleSheets = r.map((e) => e instanceof CSSStyleSheet ? e : e.styleSheet);
	else for (let t of r) {
		let r = document.createElement("style"), i = e.litNonce;
		i !== void 0 && r.setAttribute("nonce", i), r.textContent = t.cssText, n.appendChild(r);
	}
}, c = t ? (e) => e : (e) => e instanceof CSSStyleSheet ? ((e) => {
	let t = "";
	for (let n of e.cssRules) t += n.cssText;
	return a(t);
})(e) : e, { is: l, defineProperty: u, getOwnPropertyDescriptor: d, getOwnPropertyNames: f, getOwnPropertySymbols: ee, getPrototypeOf: te } = Object, p = globalThis, m = p.trustedTypes, ne = m ? m.emptyScript : "", re = p.reactiveElementPolyfillSupport, h = (e, t) => e, g = {
	toAttribute(e, t) {
		switch (t) {
			case Boolean:
				e = e ? ne : null;
				break;
			case Object:
			case Array: e = e == null ? e : JSON.stringify(e);
		}
		return e;
	},
	fromAttribute(e, t) {
		let n = e;
		switch (t) {
			case Boolean:
				n = e !== null;
				break;
			case Number:
				n = e === null ? null : Number(e);
				break;
			case Object:
			case Array: try {
				n = JSON.parse(e);
			} catch {
				n = null;
			}
		}
		return n;
	}
}, _ = (e, t) => !l(e, t), v = {
	attribute: !0,
	type: String,
	converter: g,
	reflect: !1,
	useDefault: !1,
	hasChanged: _
};
Symbol.metadata ??= Symbol("metadata"), p.litPropertyMetadata ??= /* @__PURE__ */ new WeakMap();
var y = class extends HTMLElement {
	static addInitializer(e) {
		this._$Ei(), (this.l ??= []).push(e);
	}
	static get observedAttributes() {
		return this.finalize(), this._$Eh && [...this._$Eh.keys()];
	}
	static createProperty(e, t = v) {
		if (t.state && (t.attribute = !1), this._$Ei(), this.prototype.hasOwnProperty(e) && ((t = Object.create(t)).wrapped = !0), this.elementProperties.set(e, t), !t.noAccessor) {
			let n = Symbol(), r = this.getPropertyDescriptor(e, n, t);
			r !== void 0 && u(this.prototype, e, r);
		}
	}
	static getPropertyDescriptor(e, t, n) {
		let { get: r, set: i } = d(this.prototype, e) ?? {
			get() {
				return this[t];
			},
			set(e) {
				this[t] = e;
			}
		};
		return {
			get: r,
			set(t) {
				let a = r?.call(this);
				i?.call(this, t), this.requestUpdate(e, a, n);
			},
			configurable: !0,
			enumerable: !0
		};
	}
	static getPropertyOptions(e) {
		return this.elementProperties.get(e) ?? v;
	}
	static _$Ei() {
		if (this.hasOwnProperty(h("elementProperties"))) return;
		let e = te(this);
		e.finalize(), e.l !== void 0 && (this.l = [...e.l]), this.elementProperties = new Map(e.elementProperties);
	}
	static finalize() {
		if (this.hasOwnProperty(h("finalized"))) return;
		if (this.finalized = !0, this._$Ei(), this.hasOwnProperty(h("properties"))) {
			let e = this.properties, t = [...f(e), ...ee(e)];
			for (let n of t) this.createProperty(n, e[n]);
		}
		let e = this[Symbol.metadata];
		if (e !== null) {
			let t = litPropertyMetadata.get(e);
			if (t !== void 0) for (let [e, n] of t) this.elementProperties.set(e, n);
		}
		this._$Eh = /* @__PURE__ */ new Map();
		for (let [e, t] of this.elementProperties) {
			let n = this._$Eu(e, t);
			n !== void 0 && this._$Eh.set(n, e);
		}
		this.elementStyles = this.finalizeStyles(this.styles);
	}
	static finalizeStyles(e) {
		let t = [];
		if (Array.isArray(e)) {
			let n = new Set(e.flat(1 / 0).reverse());
			for (let e of n) t.unshift(c(e));
		} else e !== void 0 && t.push(c(e));
		return t;
	}
	static _$Eu(e, t) {
		let n = t.attribute;
		return !1 === n ? void 0 : typeof n == "string" ? n : typeof e == "string" ? e.toLowerCase() : void 0;
	}
	constructor() {
		super(), this._$Ep = void 0, this.isUpdatePending = !1, this.hasUpdated = !1, this._$Em = null, this._$Ev();
	}
	_$Ev() {
		this._$ES = new Promise((e) => this.enableUpdating = e), this._$AL = /* @__PURE__ */ new Map(), this._$E_(), this.requestUpdate(), this.constructor.l?.forEach((e) => e(this));
	}
	addController(e) {
		(this._$EO ??= /* @__PURE__ */ new Set()).add(e), this.renderRoot !== void 0 && this.isConnected && e.hostConnected?.();
	}
	removeController(e) {
		this._$EO?.delete(e);
	}
	_$E_() {
		let e = /* @__PURE__ */ new Map(), t = this.constructor.elementProperties;
		for (let n of t.keys()) this.hasOwnProperty(n) && (e.set(n, this[n]), delete this[n]);
		e.size > 0 && (this._$Ep = e);
	}
	createRenderRoot() {
		let e = this.shadowRoot ?? this.attachShadow(this.constructor.shadowRootOptions);
		return s(e, this.constructor.elementStyles), e;
	}
	connectedCallback() {
		this.renderRoot ??= this.createRenderRoot(), this.enableUpdating(!0), this._$EO?.forEach((e) => e.hostConnected?.());
	}
	enableUpdating(e) {}
	disconnectedCallback() {
		this._$EO?.forEach((e) => e.hostDisconnected?.());
	}
	attributeChangedCallback(e, t, n) {
		this._$AK(e, n);
	}
	_$ET(e, t) {
		let n = this.constructor.elementProperties.get(e), r = this.constructor._$Eu(e, n);
		if (r !== void 0 && !0 === n.reflect) {
			let i = (n.converter?.toAttribute === void 0 ? g : n.converter).toAttribute(t, n.type);
			this._$Em = e, i == null ? this.removeAttribute(r) : this.setAttribute(r, i), this._$Em = null;
		}
	}
	_$AK(e, t) {
		let n = this.constructor, r = n._$Eh.get(e);
		if (r !== void 0 && this._$Em !== r) {
			let e = n.getPropertyOptions(r), i = typeof e.converter == "function" ? { fromAttribute: e.converter } : e.converter?.fromAttribute === void 0 ? g : e.converter;
			this._$Em = r;
			let a = i.fromAttribute(t, e.type);
			this[r] = a ?? this._$Ej?.get(r) ?? a, this._$Em = null;
		}
	}
	requestUpdate(e, t, n, r = !1, i) {
		if (e !== void 0) {
			let a = this.constructor;
			if (!1 === r && (i = this[e]), n ??= a.getPropertyOptions(e), !((n.hasChanged ?? _)(i, t) || n.useDefault && n.reflect && i === this._$Ej?.get(e) && !this.hasAttribute(a._$Eu(e, n)))) return;
			this.C(e, t, n);
		}
		!1 === this.isUpdatePending && (this._$ES = this._$EP());
	}
	C(e, t, { useDefault: n, reflect: r, wrapped: i }, a) {
		n && !(this._$Ej ??= /* @__PURE__ */ new Map()).has(e) && (this._$Ej.set(e, a ?? t ?? this[e]), !0 !== i || a !== void 0) || (this._$AL.has(e) || (this.hasUpdated || n || (t = void 0), this._$AL.set(e, t)), !0 === r && this._$Em !== e && (this._$Eq ??= /* @__PURE__ */ new Set()).add(e));
	}
	async _$EP() {
		this.isUpdatePending = !0;
		try {
			await this._$ES;
		} catch (e) {
			Promise.reject(e);
		}
		let e = this.scheduleUpdate();
		return e != null && await e, !this.isUpdatePending;
	}
	scheduleUpdate() {
		return this.performUpdate();
	}
	performUpdate() {
		if (!this.isUpdatePending) return;
		if (!this.hasUpdated) {
			if (this.renderRoot ??= this.createRenderRoot(), this._$Ep) {
				for (let [e, t] of this._$Ep) this[e] = t;
				this._$Ep = void 0;
			}
			let e = this.constructor.elementProperties;
			if (e.size > 0) for (let [t, n] of e) {
				let { wrapped: e } = n, r = this[t];
				!0 !== e || this._$AL.has(t) || r === void 0 || this.C(t, void 0, n, r);
			}
		}
		let e = !1, t = this._$AL;
		try {
			e = this.shouldUpdate(t), e ? (this.willUpdate(t), this._$EO?.forEach((e) => e.hostUpdate?.()), this.update(t)) : this._$EM();
		} catch (t) {
			throw e = !1, this._$EM(), t;
		}
		e && this._$AE(t);
	}
	willUpdate(e) {}
	_$AE(e) {
		this._$EO?.forEach((e) => e.hostUpdated?.()), this.hasUpdated || (this.hasUpdated = !0, this.firstUpdated(e)), this.updated(e);
	}
	_$EM() {
		this._$AL = /* @__PURE__ */ new Map(), this.isUpdatePending = !1;
	}
	get updateComplete() {
		return this.getUpdateComplete();
	}
	getUpdateComplete() {
		return this._$ES;
	}
	shouldUpdate(e) {
		return !0;
	}
	update(e) {
		this._$Eq &&= this._$Eq.forEach((e) => this._$ET(e, this[e])), this._$EM();
	}
	updated(e) {}
	firstUpdated(e) {}
};
y.elementStyles = [], y.shadowRootOptions = { mode: "open" }, y[h("elementProperties")] = /* @__PURE__ */ new Map(), y[h("finalized")] = /* @__PURE__ */ new Map(), re?.({ ReactiveElement: y }), (p.reactiveElementVersions ??= []).push("2.1.2");
// node_modules/lit-html/lit-html.js
var b = globalThis, x = (e) => e, S = b.trustedTypes, C = S ? S.createPolicy("lit-html", { createHTML: (e) => e }) : void 0, w = "$lit$", T = `lit$${Math.random().toFixed(9).slice(2)}$`, ie = "?" + T, ae = `<${ie}>`, E = document, D = () => E.createComment(""), O = (e) => e === null || typeof e != "object" && typeof e != "function", k = Array.isArray, oe = (e) => k(e) || typeof e?.[Symbol.iterator] == "function", A = "[ 	\n\f\r]", j = /<(?:(!--|\/[^a-zA-Z])|(\/?[a-zA-Z][^>\s]*)|(\/?$))/g, se = /-->/g, ce = />/g, M = RegExp(`>|${A}(?:([^\\s"'>=/]+)(${A}*=${A}*(?:[^ \t\n\f\r"'\`<>=]|("|')|))|$)`, "g"), N = /'/g, P = /"/g, F = /^(?:script|style|textarea|title)$/i, I = (e) => (t, ...n) => ({
	_$litType$: e,
	strings: t,
	values: n
}), L = I(1), R = I(2), z = Symbol.for("lit-noChange"), B = Symbol.for("lit-nothing"), V = /* @__PURE__ */ new WeakMap(), H = E.createTreeWalker(E, 129);
function U(e, t) {
	if (!k(e) || !e.hasOwnProperty("raw")) throw Error("invalid template strings array");
	return C === void 0 ? t : C.createHTML(t);
}
var le = (e, t) => {
	let n = e.length - 1, r = [], i, a = t === 2 ? "<svg>" : t === 3 ? "<math>" : "", o = j;
	for (let t = 0; t < n; t++) {
		let n = e[t], s, c, l = -1, u = 0;
		for (; u < n.length && (o.lastIndex = u, c = o.exec(n), c !== null);) u = o.lastIndex, o === j ? c[1] === "!--" ? o = se : c[1] === void 0 ? c[2] === void 0 ? c[3] !== void 0 && (o = M) : (F.test(c[2]) && (i = RegExp("</" + c[2], "g")), o = M) : o = ce : o === M ? c[0] === ">" ? (o = i ?? j, l = -1) : c[1] === void 0 ? l = -2 : (l = o.lastIndex - c[2].length, s = c[1], o = c[3] === void 0 ? M : c[3] === "\"" ? P : N) : o === P || o === N ? o = M : o === se || o === ce ? o = j : (o = M, i = void 0);
		let d = o === M && e[t + 1].startsWith("/>") ? " " : "";
		a += o === j ? n + ae : l >= 0 ? (r.push(s), n.slice(0, l) + w + n.slice(l) + T + d) : n + T + (l === -2 ? t : d);
	}
	return [U(e, a + (e[n] || "<?>") + (t === 2 ? "</svg>" : t === 3 ? "</math>" : "")), r];
}, W = class e {
	constructor({ strings: t, _$litType$: n }, r) {
		let i;
		this.parts = [];
		let a = 0, o = 0, s = t.length - 1, c = this.parts, [l, u] = le(t, n);
		if (this.el = e.createElement(l, r), H.currentNode = this.el.content, n === 2 || n === 3) {
			let e = this.el.content.firstChild;
			e.replaceWith(...e.childNodes);
		}
		for (; (i = H.nextNode()) !== null && c.length < s;) {
			if (i.nodeType === 1) {
				if (i.hasAttributes()) for (let e of i.getAttributeNames()) if (e.endsWith(w)) {
					let t = u[o++], n = i.getAttribute(e).split(T), r = /([.?@])?(.*)/.exec(t);
					c.push({
						type: 1,
						index: a,
						name: r[2],
						strings: n,
						ctor: r[1] === "." ? de : r[1] === "?" ? fe : r[1] === "@" ? pe : q
					}), i.removeAttribute(e);
				} else e.startsWith(T) && (c.push({
					type: 6,
					index: a
				}), i.removeAttribute(e));
				if (F.test(i.tagName)) {
					let e = i.textContent.split(T), t = e.length - 1;
					if (t > 0) {
						i.textContent = S ? S.emptyScript : "";
						for (let n = 0; n < t; n++) i.append(e[n], D()), H.nextNode(), c.push({
							type: 2,
							index: ++a
						});
						i.append(e[t], D());
					}
				}
			} else if (i.nodeType === 8) {
				if (i.data === ie) c.push({
					type: 2,
					index: a
				});
				else {
					let e = -1;
					for (; (e = i.data.indexOf(T, e + 1)) !== -1;) c.push({
						type: 7,
						index: a
					}), e += T.length - 1;
				}
			}
			a++;
		}
	}
	static createElement(e, t) {
		let n = E.createElement("template");
		return n.innerHTML = e, n;
	}
};
function G(e, t, n = e, r) {
	if (t === z) return t;
	let i = r === void 0 ? n._$Cl : n._$Co?.[r], a = O(t) ? void 0 : t._$litDirective$;
	return i?.constructor !== a && (i?._$AO?.(!1), a === void 0 ? i = void 0 : (i = new a(e), i._$AT(e, n, r)), r === void 0 ? n._$Cl = i : (n._$Co ??= [])[r] = i), i !== void 0 && (t = G(e, i._$AS(e, t.values), i, r)), t;
}
var ue = class {
	constructor(e, t) {
		this._$AV = [], this._$AN = void 0, this._$AD = e, this._$AM = t;
	}
	get parentNode() {
		return this._$AM.parentNode;
	}
	get _$AU() {
		return this._$AM._$AU;
	}
	u(e) {
		let { el: { content: t }, parts: n } = this._$AD, r = (e?.creationScope ?? E).importNode(t, !0);
		H.currentNode = r;
		let i = H.nextNode(), a = 0, o = 0, s = n[0];
		for (; s !== void 0;) {
			if (a === s.index) {
				let t;
				s.type === 2 ? t = new K(i, i.nextSibling, this, e) : s.type === 1 ? t = new s.ctor(i, s.name, s.strings, this, e) : s.type === 6 && (t = new me(i, this, e)), this._$AV.push(t), s = n[++o];
			}
			a !== s?.index && (i = H.nextNode(), a++);
		}
		return H.currentNode = E, r;
	}
	p(e) {
		let t = 0;
		for (let n of this._$AV) n !== void 0 && (n.strings === void 0 ? n._$AI(e[t]) : (n._$AI(e, n, t), t += n.strings.length - 2)), t++;
	}
}, K = class e {
	get _$AU() {
		return this._$AM?._$AU ?? this._$Cv;
	}
	constructor(e, t, n, r) {
		this.type = 2, this._$AH = B, this._$AN = void 0, this._$AA = e, this._$AB = t, this._$AM = n, this.options = r, this._$Cv = r?.isConnected ?? !0;
	}
	get parentNode() {
		let e = this._$AA.parentNode, t = this._$AM;
		return t !== void 0 && e?.nodeType === 11 && (e = t.parentNode), e;
	}
	get startNode() {
		return this._$AA;
	}
	get endNode() {
		return this._$AB;
	}
	_$AI(e, t = this) {
		e = G(this, e, t), O(e) ? e === B || e == null || e === "" ? (this._$AH !== B && this._$AR(), this._$AH = B) : e !== this._$AH && e !== z && this._(e) : e._$litType$ === void 0 ? e.nodeType === void 0 ? oe(e) ? this.k(e) : this._(e) : this.T(e) : this.$(e);
	}
	O(e) {
		return this._$AA.parentNode.insertBefore(e, this._$AB);
	}
	T(e) {
		this._$AH !== e && (this._$AR(), this._$AH = this.O(e));
	}
	_(e) {
		this._$AH !== B && O(this._$AH) ? this._$AA.nextSibling.data = e : this.T(E.createTextNode(e)), this._$AH = e;
	}
	$(e) {
		let { values: t, _$litType$: n } = e, r = typeof n == "number" ? this._$AC(e) : (n.el === void 0 && (n.el = W.createElement(U(n.h, n.h[0]), this.options)), n);
		if (this._$AH?._$AD === r) this._$AH.p(t);
		else {
			let e = new ue(r, this), n = e.u(this.options);
			e.p(t), this.T(n), this._$AH = e;
		}
	}
	_$AC(e) {
		let t = V.get(e.strings);
		return t === void 0 && V.set(e.strings, t = new W(e)), t;
	}
	k(t) {
		k(this._$AH) || (this._$AH = [], this._$AR());
		let n = this._$AH, r, i = 0;
		for (let a of t) i === n.length ? n.push(r = new e(this.O(D()), this.O(D()), this, this.options)) : r = n[i], r._$AI(a), i++;
		i < n.length && (this._$AR(r && r._$AB.nextSibling, i), n.length = i);
	}
	_$AR(e = this._$AA.nextSibling, t) {
		for (this._$AP?.(!1, !0, t); e !== this._$AB;) {
			let t = x(e).nextSibling;
			x(e).remove(), e = t;
		}
	}
	setConnected(e) {
		this._$AM === void 0 && (this._$Cv = e, this._$AP?.(e));
	}
}, q = class {
	get tagName() {
		return this.element.tagName;
	}
	get _$AU() {
		return this._$AM._$AU;
	}
	constructor(e, t, n, r, i) {
		this.type = 1, this._$AH = B, this._$AN = void 0, this.element = e, this.name = t, this._$AM = r, this.options = i, n.length > 2 || n[0] !== "" || n[1] !== "" ? (this._$AH = Array(n.length - 1).fill(/* @__PURE__ */ new String()), this.strings = n) : this._$AH = B;
	}
	_$AI(e, t = this, n, r) {
		let i = this.strings, a = !1;
		if (i === void 0) e = G(this, e, t, 0), a = !O(e) || e !== this._$AH && e !== z, a && (this._$AH = e);
		else {
			let r = e, o, s;
			for (e = i[0], o = 0; o < i.length - 1; o++) s = G(this, r[n + o], t, o), s === z && (s = this._$AH[o]), a ||= !O(s) || s !== this._$AH[o], s === B ? e = B : e !== B && (e += (s ?? "") + i[o + 1]), this._$AH[o] = s;
		}
		a && !r && this.j(e);
	}
	j(e) {
		e === B ? this.element.removeAttribute(this.name) : this.element.setAttribute(this.name, e ?? "");
	}
}, de = class extends q {
	constructor() {
		super(...arguments), this.type = 3;
	}
	j(e) {
		this.element[this.name] = e === B ? void 0 : e;
	}
}, fe = class extends q {
	constructor() {
		super(...arguments), this.type = 4;
	}
	j(e) {
		this.element.toggleAttribute(this.name, !!e && e !== B);
	}
}, pe = class extends q {
	constructor(e, t, n, r, i) {
		super(e, t, n, r, i), this.type = 5;
	}
	_$AI(e, t = this) {
		if ((e = G(this, e, t, 0) ?? B) === z) return;
		let n = this._$AH, r = e === B && n !== B || e.capture !== n.capture || e.once !== n.once || e.passive !== n.passive, i = e !== B && (n === B || r);
		r && this.element.removeEventListener(this.name, this, n), i && this.element.addEventListener(this.name, this, e), this._$AH = e;
	}
	handleEvent(e) {
		typeof this._$AH == "function" ? this._$AH.call(this.options?.host ?? this.element, e) : this._$AH.handleEvent(e);
	}
}, me = class {
	constructor(e, t, n) {
		this.element = e, this.type = 6, this._$AN = void 0, this._$AM = t, this.options = n;
	}
	get _$AU() {
		return this._$AM._$AU;
	}
	_$AI(e) {
		G(this, e);
	}
}, he = b.litHtmlPolyfillSupport;
he?.(W, K), (b.litHtmlVersions ??= []).push("3.3.3");
var ge = (e, t, n) => {
	let r = n?.renderBefore ?? t, i = r._$litPart$;
	if (i === void 0) {
		let e = n?.renderBefore ?? null;
		r._$litPart$ = i = new K(t.insertBefore(D(), e), e, void 0, n ?? {});
	}
	return i._$AI(e), i;
}, J = globalThis, Y = class extends y {
	constructor() {
		super(...arguments), this.renderOptions = { host: this }, this._$Do = void 0;
	}
	createRenderRoot() {
		let e = super.createRenderRoot();
		return this.renderOptions.renderBefore ??= e.firstChild, e;
	}
	update(e) {
		let t = this.render();
		this.hasUpdated || (this.renderOptions.isConnected = this.isConnected), super.update(e), this._$Do = ge(t, this.renderRoot, this.renderOptions);
	}
	connectedCallback() {
		super.connectedCallback(), this._$Do?.setConnected(!0);
	}
	disconnectedCallback() {
		super.disconnectedCallback(), this._$Do?.setConnected(!1);
	}
	render() {
		return z;
	}
};
Y._$litElement$ = !0, Y.finalized = !0, J.litElementHydrateSupport?.({ LitElement: Y });
var _e = J.litElementPolyfillSupport;
_e?.({ LitElement: Y }), (J.litElementVersions ??= []).push("4.2.2");
// src/localize.ts
var ve = {
	title: "Grid EMS",
	connection_point: "Connection point",
	importing: "importing",
	exporting: "exporting",
	of_capacity: "of contractual capacity",
	injection_limit: "Injection limit",
	consumption_limit: "Consumption limit",
	asset_production_limit: "Asset production",
	asset_consumption_limit: "Asset consumption",
	stop_production: "Emergency stop production",
	stop_consumption: "Emergency stop consumption",
	test_mode: "Test mode",
	reason_p: "Reason P",
	reason_q: "Reason Q",
	reason_normal: "Normal",
	reason_congestion: "Congestion",
	reason_test: "Test",
	reason_unknown: "Unknown",
	q_mode: "Q mode",
	q_band: "Q band",
	link: "RTU link",
	connected: "Connected",
	disconnected: "Disconnected",
	last_command: "Last command",
	no_command_yet: "no command yet",
	refused: "refused",
	cmd_emergency_stop_production: "Emergency stop production",
	cmd_emergency_stop_consumption: "Emergency stop consumption",
	cmd_test: "Test",
	cmd_q_mode: "Q mode",
	battery: "Battery",
	state_of_energy: "State of energy",
	battery_power: "Power",
	battery_plan: "Battery plan",
	planned_power: "Planned power",
	price: "Price",
	no_plan: "No plan (see the diagnostics for why)",
	relays: "Relays",
	categories: "P per asset category",
	unavailable: "Unavailable",
	on: "On",
	off: "Off",
	active: "ACTIVE",
	no_entities: "No Grid EMS entities found. Add Grid EMS devices, or choose other entries in the card editor.",
	editor_title: "Title",
	editor_entries: "Grid EMS entries to show (none chosen: all)",
	editor_no_entries: "No Grid EMS entries are configured yet.",
	commissioning: "Commissioning run",
	commissioning_step: "Step {index} of {steps}",
	commissioning_passed: "Passed",
	commissioning_failed: "Failed",
	commissioning_aborted: "Aborted",
	commissioning_report: "Open report",
	commissioning_start: "Start commissioning run…",
	commissioning_confirm: "The run sends the certification sequence through the link as local test commands: both emergency stops, the limits at 50, 10 and 100 %, the Q band. Relays switch and the site is limited for a few minutes; the state from before the run is restored at its end.",
	commissioning_confirm_start: "Start the run",
	commissioning_abort: "Abort run",
	cancel: "Cancel",
	cat_solar: "Solar",
	cat_wind: "Wind",
	cat_chp: "CHP",
	cat_storage: "Storage",
	cat_ev: "EV",
	cat_flexible_consumption: "Flexible consumption",
	cat_other_production: "Other production"
}, ye = {
	en: ve,
	nl: {
		title: "Grid EMS",
		connection_point: "Aansluitpunt",
		importing: "afname",
		exporting: "injectie",
		of_capacity: "van het contractuele vermogen",
		injection_limit: "Injectielimiet",
		consumption_limit: "Afnamelimiet",
		asset_production_limit: "Productie installaties",
		asset_consumption_limit: "Verbruik installaties",
		stop_production: "Noodstop productie",
		stop_consumption: "Noodstop afname",
		test_mode: "Testmodus",
		reason_p: "Reden P",
		reason_q: "Reden Q",
		reason_normal: "Normaal",
		reason_congestion: "Congestie",
		reason_test: "Test",
		reason_unknown: "Onbekend",
		q_mode: "Q-modus",
		q_band: "Q-band",
		link: "RTU-verbinding",
		connected: "Verbonden",
		disconnected: "Niet verbonden",
		last_command: "Laatste commando",
		no_command_yet: "nog geen commando",
		refused: "geweigerd",
		cmd_emergency_stop_production: "Noodstop productie",
		cmd_emergency_stop_consumption: "Noodstop afname",
		cmd_test: "Test",
		cmd_q_mode: "Q-modus",
		battery: "Batterij",
		state_of_energy: "Laadtoestand",
		battery_power: "Vermogen",
		battery_plan: "Batterijplan",
		planned_power: "Gepland vermogen",
		price: "Prijs",
		no_plan: "Geen plan (zie de diagnostiek waarom)",
		relays: "Relais",
		categories: "P per installatiecategorie",
		unavailable: "Niet beschikbaar",
		on: "Aan",
		off: "Uit",
		active: "ACTIEF",
		no_entities: "Geen Grid EMS-entiteiten gevonden. Voeg Grid EMS-toestellen toe of kies andere items in de kaarteditor.",
		editor_title: "Titel",
		editor_entries: "Te tonen Grid EMS-items (geen gekozen: alle)",
		editor_no_entries: "Er zijn nog geen Grid EMS-items geconfigureerd.",
		commissioning: "Inbedrijfstellingstest",
		commissioning_step: "Stap {index} van {steps}",
		commissioning_passed: "Geslaagd",
		commissioning_failed: "Mislukt",
		commissioning_aborted: "Afgebroken",
		commissioning_report: "Rapport openen",
		commissioning_start: "Inbedrijfstellingstest starten…",
		commissioning_confirm: "De test stuurt de certificatiereeks als lokale testcommando's over de koppeling: beide noodstops, de limieten op 50, 10 en 100 %, de Q-band. Relais schakelen en de site wordt enkele minuten begrensd; na afloop wordt de toestand van vóór de test hersteld.",
		commissioning_confirm_start: "Test starten",
		commissioning_abort: "Test afbreken",
		cancel: "Annuleren",
		cat_solar: "Zon",
		cat_wind: "Wind",
		cat_chp: "WKK",
		cat_storage: "Opslag",
		cat_ev: "Elektrische voertuigen",
		cat_flexible_consumption: "Flexibel verbruik",
		cat_other_production: "Andere productie"
	},
	fr: {
		title: "Grid EMS",
		connection_point: "Point de raccordement",
		importing: "prélèvement",
		exporting: "injection",
		of_capacity: "de la puissance contractuelle",
		injection_limit: "Limite d'injection",
		consumption_limit: "Limite de prélèvement",
		asset_production_limit: "Production des installations",
		asset_consumption_limit: "Consommation des installations",
		stop_production: "Arrêt d'urgence production",
		stop_consumption: "Arrêt d'urgence prélèvement",
		test_mode: "Mode test",
		reason_p: "Raison P",
		reason_q: "Raison Q",
		reason_normal: "Normal",
		reason_congestion: "Congestion",
		reason_test: "Test",
		reason_unknown: "Inconnue",
		q_mode: "Mode Q",
		q_band: "Bande Q",
		link: "Liaison RTU",
		connected: "Connectée",
		disconnected: "Déconnectée",
		last_command: "Dernière commande",
		no_command_yet: "pas encore de commande",
		refused: "refusée",
		cmd_emergency_stop_production: "Arrêt d'urgence production",
		cmd_emergency_stop_consumption: "Arrêt d'urgence prélèvement",
		cmd_test: "Test",
		cmd_q_mode: "Mode Q",
		battery: "Batterie",
		state_of_energy: "État de charge",
		battery_power: "Puissance",
		battery_plan: "Plan de la batterie",
		planned_power: "Puissance planifiée",
		price: "Prix",
		no_plan: "Pas de plan (voir les diagnostics)",
		relays: "Relais",
		categories: "P par catégorie d'installation",
		unavailable: "Indisponible",
		on: "Marche",
		off: "Arrêt",
		active: "ACTIF",
		no_entities: "Aucune entité Grid EMS trouvée. Ajoutez des appareils Grid EMS ou choisissez d'autres entrées dans l'éditeur de carte.",
		editor_title: "Titre",
		editor_entries: "Entrées Grid EMS à afficher (aucune choisie : toutes)",
		editor_no_entries: "Aucune entrée Grid EMS n'est encore configurée.",
		commissioning: "Essai de mise en service",
		commissioning_step: "Étape {index} sur {steps}",
		commissioning_passed: "Réussi",
		commissioning_failed: "Échoué",
		commissioning_aborted: "Interrompu",
		commissioning_report: "Ouvrir le rapport",
		commissioning_start: "Lancer l'essai de mise en service…",
		commissioning_confirm: "L'essai envoie la séquence de certification par la liaison, en commandes de test locales : les deux arrêts d'urgence, les limites à 50, 10 et 100 %, la bande Q. Des relais commutent et le site est limité pendant quelques minutes ; l'état d'avant l'essai est rétabli à la fin.",
		commissioning_confirm_start: "Lancer l'essai",
		commissioning_abort: "Interrompre l'essai",
		cancel: "Annuler",
		cat_solar: "Solaire",
		cat_wind: "Éolien",
		cat_chp: "Cogénération",
		cat_storage: "Stockage",
		cat_ev: "Véhicules électriques",
		cat_flexible_consumption: "Consommation flexible",
		cat_other_production: "Autre production"
	}
};
function be(e) {
	let t = ye[(e ?? "en").split("-")[0]] ?? ve;
	return (e) => t[e];
}
// src/roles.ts
var xe = [
	"solar",
	"wind",
	"chp",
	"storage",
	"ev",
	"flexible_consumption",
	"other_production"
], Se = [
	{
		role: "link_connected",
		domains: ["binary_sensor"],
		keys: ["rtu_connected"]
	},
	{
		role: "last_command",
		domains: ["event"],
		keys: ["dso_command"]
	},
	{
		role: "emergency_stop_production",
		domains: ["binary_sensor"],
		keys: ["emergency_stop_production"]
	},
	{
		role: "emergency_stop_consumption",
		domains: ["binary_sensor"],
		keys: ["emergency_stop_consumption"]
	},
	{
		role: "test_mode",
		domains: ["binary_sensor"],
		keys: ["test_mode"]
	},
	{
		role: "injection_limit_pct",
		domains: ["sensor"],
		keys: ["min_set_p"]
	},
	{
		role: "consumption_limit_pct",
		domains: ["sensor"],
		keys: ["max_set_p"]
	},
	{
		role: "asset_production_limit_pct",
		domains: ["sensor"],
		keys: ["max_set_ap"]
	},
	{
		role: "asset_consumption_limit_pct",
		domains: ["sensor"],
		keys: ["min_set_ap"]
	},
	{
		role: "injection_limit_kw",
		domains: ["sensor"],
		keys: ["max_injection"]
	},
	{
		role: "consumption_limit_kw",
		domains: ["sensor"],
		keys: ["max_consumption"]
	},
	{
		role: "q_band_min_pct",
		domains: ["sensor"],
		keys: ["min_set_q"]
	},
	{
		role: "q_band_max_pct",
		domains: ["sensor"],
		keys: ["max_set_q"]
	},
	{
		role: "reason_p",
		domains: ["sensor"],
		keys: ["reason_p"]
	},
	{
		role: "reason_q",
		domains: ["sensor"],
		keys: ["reason_q"]
	},
	{
		role: "q_mode",
		domains: ["sensor"],
		keys: ["q_mode"]
	},
	{
		role: "commissioning",
		domains: ["sensor"],
		keys: ["commissioning"]
	},
	{
		role: "commissioning_start",
		domains: ["button"],
		keys: ["start_commissioning"]
	},
	{
		role: "commissioning_abort",
		domains: ["button"],
		keys: ["abort_commissioning"]
	},
	{
		role: "grid_power",
		domains: ["sensor"],
		keys: ["p1_net_power"]
	},
	{
		role: "grid_power_import",
		domains: ["sensor"],
		keys: ["p1_power_import"]
	},
	{
		role: "grid_power_export",
		domains: ["sensor"],
		keys: ["p1_power_export"]
	},
	{
		role: "grid_power",
		domains: ["sensor"],
		keys: ["meter_power"]
	},
	{
		role: "bess_soe",
		domains: ["sensor"],
		keys: ["bess_state_of_energy"]
	},
	{
		role: "bess_power",
		domains: ["sensor"],
		keys: ["bess_active_power"]
	},
	{
		role: "battery_plan",
		domains: ["sensor"],
		keys: ["planned_battery_power"]
	}
], Ce = [{
	role: "relay",
	domains: ["switch"],
	keys: ["io_relay", "io_output"]
}], we = {
	solar: ["active_power_solar"],
	wind: ["active_power_wind"],
	chp: ["active_power_chp"],
	storage: ["active_power_storage"],
	ev: ["active_power_ev"],
	flexible_consumption: ["active_power_flexible_consumption"],
	other_production: ["active_power_other_production"]
}, Te = {
	min_set_p: "MINSETP",
	max_set_p: "MAXSETP",
	max_set_ap: "MAXSETAP",
	min_set_ap: "MINSETAP",
	min_set_q: "MINSETQ",
	max_set_q: "MAXSETQ",
	reason_p: "REDENP",
	reason_q: "REDENQ"
}, Ee = {
	normal_operation: "normal",
	grid_congestion: "congestion",
	test: "test"
};
function De(e, t) {
	return e.some((e) => typeof e == "string" ? e === t : e.test(t));
}
function Oe(e, t, n) {
	return e.domains.includes(t) && De(e.keys, n);
}
// src/model.ts
var ke = "grid_ems", Ae = /* @__PURE__ */ new Set(["unavailable", "unknown"]);
function je(e) {
	let t = e?.forecast;
	if (!Array.isArray(t)) return [];
	let n = [];
	for (let e of t) {
		if (typeof e != "object" || !e) continue;
		let { start: t, power_kw: r, price_eur_per_kwh: i } = e, a = typeof t == "string" ? Date.parse(t) : NaN;
		Number.isFinite(a) && typeof r == "number" && Number.isFinite(r) && n.push({
			start: a,
			powerKw: r,
			priceEurPerKwh: typeof i == "number" && Number.isFinite(i) ? i : null
		});
	}
	return n;
}
function Me(e) {
	return e.config_entry_id ?? e.config_entries?.[0];
}
function Ne(e, t) {
	let n = new Set(t.entries ?? []);
	return Object.values(e.entities ?? {}).filter((e) => e.platform === ke).filter((t) => {
		if (n.size === 0) return !0;
		let r = t.device_id ? e.devices?.[t.device_id] : void 0, i = r ? Me(r) : void 0;
		return i !== void 0 && n.has(i);
	}).sort((e, t) => e.entity_id.localeCompare(t.entity_id));
}
function Pe(e) {
	switch (e) {
		case "W": return .001;
		case "MW": return 1e3;
		default: return 1;
	}
}
function X(e, t) {
	let n = e.states[t];
	if (!n) return {
		entityId: t,
		name: t,
		state: "unavailable",
		available: !1,
		value: null
	};
	let r = !Ae.has(n.state), i = r ? Number.parseFloat(n.state) : NaN, a = Number.isFinite(i) ? i * Pe(n.attributes.unit_of_measurement) : null;
	return {
		entityId: t,
		name: String(n.attributes.friendly_name ?? t),
		state: n.state,
		available: r,
		value: a,
		stateObj: n
	};
}
function Z(e) {
	return e.split(".", 1)[0];
}
function Fe(e) {
	return e ? e.available ? Ee[e.state] ?? Ee[String(e.value ?? "")] ?? "unknown" : "unknown" : null;
}
function Q(e, t, n) {
	if (e?.value != null && t?.value && n?.available && n.state !== "on") return e.value / (Math.abs(t.value) / 100);
}
function Ie(e, t, n = {}) {
	let r = Ne(e, t), i = /* @__PURE__ */ new Set(), a = {};
	for (let t of Se) {
		if (a[t.role]) continue;
		let n = r.find((e) => !i.has(e.entity_id) && Oe(t, Z(e.entity_id), e.translation_key ?? ""));
		n && (i.add(n.entity_id), a[t.role] = X(e, n.entity_id));
	}
	let o = { relay: [] };
	for (let e of Ce) for (let t of r) !i.has(t.entity_id) && Oe(e, Z(t.entity_id), t.translation_key ?? "") && (i.add(t.entity_id), o[e.role].push(t));
	let s = [];
	for (let t of xe) {
		let n = r.find((e) => !i.has(e.entity_id) && Z(e.entity_id) === "sensor" && De(we[t], e.translation_key ?? ""));
		n && (i.add(n.entity_id), s.push({
			category: t,
			reading: X(e, n.entity_id)
		}));
	}
	let c = Re(a);
	n.exportKw = Q(a.injection_limit_kw, a.injection_limit_pct, a.emergency_stop_production) ?? n.exportKw, n.importKw = Q(a.consumption_limit_kw, a.consumption_limit_pct, a.emergency_stop_consumption) ?? n.importKw;
	let l = c != null && c < 0 ? n.exportKw : n.importKw, u = c != null && l ? Math.abs(c) / l * 100 : null;
	return {
		entityIds: [...i],
		readings: a,
		relayModules: Le(e, o.relay),
		categories: s,
		gridPowerKw: c,
		hasGridPower: !!(a.grid_power ?? a.grid_power_import ?? a.grid_power_export),
		injectionLimitKw: a.injection_limit_kw?.value ?? null,
		consumptionLimitKw: a.consumption_limit_kw?.value ?? null,
		gridPowerPct: u,
		reasonP: Fe(a.reason_p),
		reasonQ: Fe(a.reason_q),
		plan: je(a.battery_plan?.stateObj?.attributes)
	};
}
function Le(e, t) {
	let n = /* @__PURE__ */ new Map();
	for (let r of t) {
		let t = r.device_id ? e.devices?.[r.device_id] : void 0, i = t?.name_by_user ?? t?.name ?? "", a = n.get(r.device_id ?? "") ?? {
			name: i,
			relays: []
		};
		n.set(r.device_id ?? "", a);
		let o = X(e, r.entity_id);
		i && o.name.startsWith(`${i} `) && (o.name = o.name.slice(i.length + 1)), a.relays.push(o);
	}
	let r = new Intl.Collator("en", { numeric: !0 });
	for (let e of n.values()) e.relays.sort((e, t) => r.compare(e.name, t.name));
	return [...n.values()];
}
function Re(e) {
	if (e.grid_power) return e.grid_power.value;
	let t = e.grid_power_import?.value, n = e.grid_power_export?.value;
	return t == null && n == null || !e.grid_power_import?.available && e.grid_power_import || !e.grid_power_export?.available && e.grid_power_export ? null : (t ?? 0) - (n ?? 0);
}
function ze(e, t, n) {
	return !e || !t || t.entities !== n.entities || t.devices !== n.devices || t.themes !== n.themes || t.language !== n.language || e.entityIds.some((e) => t.states[e] !== n.states[e]);
}
// src/editor.ts
var Be = class extends Y {
	constructor(...e) {
		super(...e), this._loading = !1;
	}
	static {
		this.properties = {
			hass: { attribute: !1 },
			_config: { state: !0 },
			_entries: { state: !0 }
		};
	}
	setConfig(e) {
		this._config = e;
	}
	willUpdate() {
		this.hass && this._entries === void 0 && !this._loading && (this._loading = !0, this.hass.callWS({
			type: "config_entries/get",
			domain: ke
		}).then((e) => {
			this._entries = e;
		}).catch(() => {
			this._entries = [];
		}));
	}
	render() {
		if (!this.hass || !this._config) return B;
		let e = be(this.hass.locale?.language ?? this.hass.language), t = new Set(this._config.entries ?? []);
		return L`
      <label class="field">
        <span>${e("editor_title")}</span>
        <input
          type="text"
          name="title"
          .value=${this._config.title ?? ""}
          placeholder=${e("title")}
          @change=${(e) => this._setTitle(e.target.value)}
        />
      </label>
      <fieldset>
        <legend>${e("editor_entries")}</legend>
        ${this._entries?.length === 0 ? L`<p>${e("editor_no_entries")}</p>` : B}
        ${(this._entries ?? []).map((e) => L`<label class="entry">
            <input
              type="checkbox"
              name="entry"
              .value=${e.entry_id}
              .checked=${t.has(e.entry_id)}
              @change=${(t) => this._toggle(e.entry_id, t.target.checked)}
            />
            ${e.title}
          </label>`)}
      </fieldset>
    `;
	}
	_setTitle(e) {
		let t = { ...this._config };
		e ? t.title = e : delete t.title, this._emit(t);
	}
	_toggle(e, t) {
		let n = new Set(this._config?.entries ?? []);
		t ? n.add(e) : n.delete(e);
		let r = (this._entries ?? []).map((e) => e.entry_id).filter((e) => n.has(e));
		this._emit({
			...this._config,
			entries: r
		});
	}
	_emit(e) {
		this._config = e, this.dispatchEvent(new CustomEvent("config-changed", {
			detail: { config: e },
			bubbles: !0,
			composed: !0
		}));
	}
	static {
		this.styles = o`
    :host {
      display: block;
      color: var(--primary-text-color);
    }
    .field {
      display: flex;
      flex-direction: column;
      gap: 4px;
      margin-bottom: 12px;
    }
    input[type="text"] {
      padding: 8px;
      font: inherit;
      color: var(--primary-text-color);
      background: var(--card-background-color, transparent);
      border: 1px solid var(--divider-color, #ccc);
      border-radius: 4px;
    }
    fieldset {
      border: 1px solid var(--divider-color, #ccc);
      border-radius: 4px;
    }
    .entry {
      display: flex;
      align-items: center;
      gap: 8px;
      padding: 4px 0;
    }
  `;
	}
}, Ve = "grid-ems-card", He = "grid-ems-card-editor", Ue = class extends Y {
	static {
		this.properties = {
			hass: { attribute: !1 },
			_config: { state: !0 },
			_confirmingRun: { state: !0 },
			_runError: { state: !0 }
		};
	}
	constructor() {
		super(), this._capacities = {}, this._confirmingRun = !1;
	}
	static getConfigElement() {
		return document.createElement(He);
	}
	static getStubConfig() {
		return { entries: [] };
	}
	setConfig(e) {
		if (!e || typeof e != "object") throw Error("Invalid configuration");
		if (e.entries !== void 0 && !Array.isArray(e.entries)) throw Error("'entries' must be a list of config entry ids");
		this._config = e, this._capacities = {};
	}
	getCardSize() {
		return 8;
	}
	shouldUpdate(e) {
		return e.has("_config") || !this._view || [...e.keys()].some((e) => e !== "hass") ? !0 : !e.has("hass") || !this.hass ? !1 : ze(this._view, e.get("hass"), this.hass);
	}
	render() {
		if (!this.hass || !this._config) return B;
		let e = Ie(this.hass, this._config, this._capacities);
		this._view = e;
		let t = be(this.hass.locale?.language ?? this.hass.language), n = e.entityIds.length === 0;
		return L`
      <ha-card>
        <div class="header">
          <span class="title">${this._config.title ?? t("title")}</span>
          ${this._link(e, t)}
        </div>
        <div class="content">
          ${n ? L`<div class="empty" data-role="empty">${t("no_entities")}</div>` : L`${this._commissioning(e, t)} ${this._stops(e, t)} ${this._connectionPoint(e, t)} ${this._control(e, t)}
              ${this._battery(e, t)} ${this._plan(e, t)} ${this._relays(e, t)}
              ${this._categories(e, t)}`}
        </div>
      </ha-card>
    `;
	}
	_format(e, t) {
		let n = this.hass?.locale?.language ?? this.hass?.language ?? "en";
		return new Intl.NumberFormat(n, {
			maximumFractionDigits: t,
			minimumFractionDigits: t
		}).format(e);
	}
	_kw(e) {
		return e == null ? "—" : `${this._format(e, 2)} kW`;
	}
	_pct(e) {
		return e?.value == null ? "—" : `${this._format(e.value, 0)} %`;
	}
	_stateText(e, t) {
		return e.available ? e.stateObj && this.hass?.formatEntityState ? this.hass.formatEntityState(e.stateObj) : e.state : t("unavailable");
	}
	_commandText(e, t) {
		let { command: n, value: r, event_type: i } = e.stateObj?.attributes ?? {};
		return e.state === "unavailable" ? t("unavailable") : !e.available || typeof n != "string" ? t("no_command_yet") : `${Te[n] ?? t(`cmd_${n}`) ?? n} = ${typeof r == "boolean" ? t(r ? "on" : "off") : String(r)}${i === "command_refused" ? ` (${t("refused")})` : ""} · ${this._stateText(e, t)}`;
	}
	_link(e, t) {
		let n = e.readings.link_connected, r = e.readings.last_command;
		if (!n && !r) return B;
		let i = n?.available && n.state === "on";
		return L`<div class="link">
      ${n ? L`<span
            class="chip ${i ? "ok" : "alarm"}"
            data-role="link"
            data-state=${i ? "connected" : "disconnected"}
            title=${t("link")}
            >${t("link")}: ${i ? t("connected") : n.available ? t("disconnected") : t("unavailable")}</span
          >` : B}
      ${r ? L`<span class="secondary" data-role="last-command"
            >${t("last_command")}: ${this._commandText(r, t)}</span
          >` : B}
    </div>`;
	}
	_commissioning(e, t) {
		let n = e.readings.commissioning;
		if (!n?.available) return B;
		let r = We(e.readings.commissioning_start), i = We(e.readings.commissioning_abort), a = n.stateObj?.attributes ?? {}, o = this._runError ? L`<div class="error" data-role="commissioning-error">${this._runError}</div>` : B;
		if (n.state === "running") {
			let e = Number(a.progress ?? 0), n = t("commissioning_step").replace("{index}", String(Number(a.step_index ?? 0) + 1)).replace("{steps}", String(a.steps ?? "?"));
			return L`<section data-role="commissioning" data-state="running">
        <h3>${t("commissioning")}</h3>
        <div class="row">
          <span class="label">${n}</span>
          <span class="value" data-role="commissioning-progress">${e} %</span>
        </div>
        ${a.step ? L`<div class="secondary" data-role="commissioning-step">${a.step}</div>` : B}
        <div class="soe"><div style="width:${Math.max(0, Math.min(100, e))}%"></div></div>
        ${i ? L`<div class="actions">
              <button data-role="commissioning-abort" @click=${() => this._press(i)}>${t("commissioning_abort")}</button>
            </div>` : B}
        ${o}
      </section>`;
		}
		let s = [
			"passed",
			"failed",
			"aborted"
		].includes(n.state);
		if (!s && !r) return B;
		let c = n.state === "passed" ? "ok" : n.state === "failed" ? "alarm" : "warn", l = typeof a.report == "string" ? a.report : void 0;
		return L`<section data-role="commissioning" data-state=${n.state}>
      ${s ? L`<div class="row">
            <span class="chip ${c}">${t("commissioning")}: ${t(`commissioning_${n.state}`)}</span>
            ${l ? L`<button data-role="commissioning-report" @click=${() => this._openReport(l)}>
                  ${t("commissioning_report")}
                </button>` : B}
          </div>` : B}
      ${r ? this._startControl(r, t) : B} ${o}
    </section>`;
	}
	_startControl(e, t) {
		return this._confirmingRun ? L`<div class="confirm" data-role="commissioning-confirm">
      <p>${t("commissioning_confirm")}</p>
      <div class="actions">
        <button data-role="commissioning-cancel" @click=${() => this._confirmingRun = !1}>${t("cancel")}</button>
        <button class="primary" data-role="commissioning-confirm-start" @click=${() => this._press(e)}>
          ${t("commissioning_confirm_start")}
        </button>
      </div>
    </div>` : L`<div class="actions">
        <button data-role="commissioning-start" @click=${() => this._askToStart()}>${t("commissioning_start")}</button>
      </div>`;
	}
	_askToStart() {
		this._runError = void 0, this._confirmingRun = !0;
	}
	async _press(e) {
		this._confirmingRun = !1, this._runError = void 0;
		try {
			await this.hass?.callService?.("button", "press", { entity_id: e });
		} catch (e) {
			this._runError = e?.message ?? String(e);
		}
	}
	async _openReport(e) {
		if (!this.hass) return;
		let t = await this.hass.callWS({
			type: "auth/sign_path",
			path: e,
			expires: 300
		});
		window.open(t.path, "_blank");
	}
	_stops(e, t) {
		return L`<div class="flags">
      ${[
			[
				"stop_production",
				e.readings.emergency_stop_production,
				"stop-production"
			],
			[
				"stop_consumption",
				e.readings.emergency_stop_consumption,
				"stop-consumption"
			],
			[
				"test_mode",
				e.readings.test_mode,
				"test-mode"
			]
		].filter(([, e]) => e).map(([e, n, r]) => {
			let i = n, a = i.available && i.state === "on";
			return L`<span class="chip ${i.available ? a ? r === "test-mode" ? "warn" : "alarm" : "ok" : "unavailable"}" data-role=${r} data-state=${i.available ? i.state : "unavailable"}
            >${t(e)}: ${i.available ? t(a ? "active" : "off") : t("unavailable")}</span
          >`;
		})}
    </div>`;
	}
	_connectionPoint(e, t) {
		let n = e.readings;
		if (!e.hasGridPower && !n.injection_limit_pct && !n.consumption_limit_pct) return B;
		let r = e.gridPowerKw, i = r == null ? "" : t(r < 0 ? "exporting" : "importing");
		return L`<section>
      <h3>${t("connection_point")}</h3>
      ${e.hasGridPower ? L`<div class="big ${r == null ? "unavailable" : ""}" data-role="grid-power">
            ${r == null ? t("unavailable") : L`${this._kw(Math.abs(r))} <small>${i}</small>`}
            ${e.gridPowerPct == null ? B : L`<small data-role="grid-power-pct">(${this._format(e.gridPowerPct, 0)} % ${t("of_capacity")})</small>`}
          </div>
          ${this._bar(e)}` : B}
      <div class="limits">
        ${this._limit(t, "injection_limit", n.injection_limit_pct, e.injectionLimitKw)}
        ${this._limit(t, "consumption_limit", n.consumption_limit_pct, e.consumptionLimitKw)}
        ${this._limit(t, "asset_production_limit", n.asset_production_limit_pct, null)}
        ${this._limit(t, "asset_consumption_limit", n.asset_consumption_limit_pct, null)}
      </div>
    </section>`;
	}
	_limit(e, t, n, r) {
		if (!n && r == null) return B;
		let i = n !== void 0 && !n.available;
		return L`<div class="limit ${i ? "unavailable" : ""}" data-role=${t.replaceAll("_", "-")}>
      <span class="label">${e(t)}</span>
      <span class="value"
        >${i ? e("unavailable") : L`${this._pct(n)}${r == null ? B : L` · ${this._kw(r)}`}`}</span
      >
    </div>`;
	}
	_bar(e) {
		let t = e.gridPowerKw, n = e.injectionLimitKw, r = e.consumptionLimitKw;
		if (t == null || n == null && r == null) return B;
		let i = Math.max(n ?? 0, r ?? 0, Math.abs(t), .001) * 1.1, a = (e) => 50 + e / i * 50, o = t > 0 && r != null && t > r || t < 0 && n != null && -t > n;
		return L`<div class="bar" aria-hidden="true">
      ${n == null ? B : L`<div class="bound" style="left:${a(-n)}%"></div>`}
      ${r == null ? B : L`<div class="bound" style="left:${a(r)}%"></div>`}
      <div class="zero" style="left:50%"></div>
      <div
        class="fill ${o ? "over" : ""}"
        style="left:${Math.min(50, a(t))}%;width:${Math.abs(a(t) - 50)}%"
      ></div>
    </div>`;
	}
	_control(e, t) {
		let n = e.readings, r = [], i = (e, n, i) => {
			n && r.push(L`<div class="row" data-role=${i} data-state=${n}>
          <span class="label">${t(e)}</span>
          <span class="value reason ${n}">${t(`reason_${n}`)}</span>
        </div>`);
		};
		return i("reason_p", e.reasonP, "reason-p"), i("reason_q", e.reasonQ, "reason-q"), n.q_mode && r.push(L`<div class="row" data-role="q-mode">
        <span class="label">${t("q_mode")}</span> <span class="value">${this._stateText(n.q_mode, t)}</span>
      </div>`), (n.q_band_min_pct || n.q_band_max_pct) && r.push(L`<div class="row" data-role="q-band">
        <span class="label">${t("q_band")}</span>
        <span class="value">${this._pct(n.q_band_min_pct)} … ${this._pct(n.q_band_max_pct)}</span>
      </div>`), r.length ? L`<section class="rows">${r}</section>` : B;
	}
	_battery(e, t) {
		let n = e.readings.bess_soe, r = e.readings.bess_power;
		return !n && !r ? B : L`<section>
      <h3>${t("battery")}</h3>
      ${n ? L`<div class="row" data-role="bess-soe">
            <span class="label">${t("state_of_energy")}</span>
            <span class="value ${n.available ? "" : "unavailable"}"
              >${n.available ? this._pct(n) : t("unavailable")}</span
            >
          </div>
          ${n.value == null ? B : L`<div class="soe"><div style="width:${Math.max(0, Math.min(100, n.value))}%"></div></div>`}` : B}
      ${r ? L`<div class="row" data-role="bess-power">
            <span class="label">${t("battery_power")}</span>
            <span class="value ${r.available ? "" : "unavailable"}"
              >${r.available ? this._kw(r.value) : t("unavailable")}</span
            >
          </div>` : B}
    </section>`;
	}
	_plan(e, t) {
		if (!e.readings.battery_plan) return B;
		let n = e.plan;
		if (!n.length) return L`<section data-role="plan">
        <h3>${t("battery_plan")}</h3>
        <div class="unavailable">${t("no_plan")}</div>
      </section>`;
		let r = 300 / n.length, i = Math.max(...n.map((e) => Math.abs(e.powerKw)), .001), a = n.map((e) => e.priceEurPerKwh).filter((e) => e !== null), o = Math.min(...a, 0), s = Math.max(...a, o + .001), c = (e) => 78 - (e - o) / (s - o) * 76, l = n.map((e, t) => e.priceEurPerKwh === null ? null : `${(t + .5) * r},${c(e.priceEurPerKwh)}`).filter((e) => e !== null).join(" "), u = new Date(n[0].start), d = new Date(n[n.length - 1].start), f = (e) => e.toLocaleTimeString(this.hass?.locale?.language ?? "en", {
			hour: "2-digit",
			minute: "2-digit"
		});
		return L`<section data-role="plan">
      <h3>${t("battery_plan")}</h3>
      <svg data-role="plan-chart" viewBox="0 0 ${300} ${80}" preserveAspectRatio="none" role="img">
        <title>${t("battery_plan")}: ${t("planned_power")}, ${t("price")}</title>
        <line class="axis" x1="0" x2=${300} y1=${40} y2=${40}></line>
        ${n.map((e, t) => {
			let n = Math.abs(e.powerKw) / i * 38, a = e.powerKw >= 0 ? "discharge" : "charge";
			return R`<rect data-role="plan-bar" data-kind=${a} class=${a} x=${t * r}
            y=${e.powerKw >= 0 ? 40 - n : 40} width=${Math.max(r - .5, .5)} height=${n}></rect>`;
		})}
        ${l ? R`<polyline data-role="plan-price" class="price" points=${l}></polyline>` : B}
      </svg>
      <div class="legend">
        <span>${f(u)}</span>
        <span><i class="discharge"></i>${t("planned_power")} (± ${this._format(i, 1)} kW)</span>
        <span><i class="price"></i>${t("price")}</span>
        <span>${f(d)}</span>
      </div>
    </section>`;
	}
	_relays(e, t) {
		return e.relayModules.length ? L`<section>
      <h3>${t("relays")}</h3>
      ${e.relayModules.map((e) => L`<div class="module" data-role="relay-module">
          ${e.name ? L`<span class="label">${e.name}</span>` : B}
          <div class="flags">
            ${e.relays.map((e) => {
			let n = e.available ? e.state === "on" ? "on" : "off" : "unavailable", r = e.available ? e.state === "on" ? t("on") : t("off") : t("unavailable");
			return L`<span
                class="chip small ${n}"
                data-role="relay"
                data-state=${n}
                data-entity=${e.entityId}
                title="${e.name}: ${r}"
                >${e.name}</span
              >`;
		})}
          </div>
        </div>`)}
    </section>` : B;
	}
	_categories(e, t) {
		return e.categories.length ? L`<section>
      <h3>${t("categories")}</h3>
      <div class="grid">
        ${e.categories.map(({ category: e, reading: n }) => L`<div class="row" data-role="category" data-category=${e}>
              <span class="label">${t(`cat_${e}`)}</span>
              <span class="value ${n.available ? "" : "unavailable"}"
                >${n.available ? this._kw(n.value) : t("unavailable")}</span
              >
            </div>`)}
      </div>
    </section>` : B;
	}
	static {
		this.styles = o`
    :host {
      display: block;
    }
    ha-card {
      display: block;
      padding: 16px;
      color: var(--primary-text-color, #212121);
      background: var(--ha-card-background, var(--card-background-color, #fff));
      border-radius: var(--ha-card-border-radius, 12px);
    }
    .header {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      justify-content: space-between;
      gap: 8px;
      margin-bottom: 8px;
    }
    .title {
      font-size: 1.4em;
      font-weight: 500;
    }
    .link {
      display: flex;
      flex-direction: column;
      align-items: flex-end;
      gap: 2px;
    }
    .secondary,
    small,
    .label {
      color: var(--secondary-text-color, #727272);
    }
    section {
      margin-top: 12px;
    }
    h3 {
      margin: 0 0 6px;
      font-size: 0.95em;
      font-weight: 500;
      text-transform: uppercase;
      letter-spacing: 0.04em;
      color: var(--secondary-text-color, #727272);
    }
    .big {
      font-size: 1.8em;
      font-weight: 400;
    }
    .big small {
      font-size: 0.5em;
    }
    .flags {
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
    }
    section[data-role="commissioning"] button {
      font: inherit;
      color: var(--primary-color);
      background: none;
      border: 1px solid var(--primary-color);
      border-radius: 12px;
      padding: 2px 10px;
      cursor: pointer;
    }
    section[data-role="commissioning"] button.primary {
      color: var(--text-primary-color, #fff);
      background: var(--primary-color, #03a9f4);
    }
    section[data-role="commissioning"] .actions {
      display: flex;
      justify-content: flex-end;
      gap: 8px;
      margin-top: 6px;
    }
    section[data-role="commissioning"] .confirm p {
      margin: 6px 0;
    }
    section[data-role="commissioning"] .error {
      margin-top: 6px;
      color: var(--error-color, #db4437);
    }
    .chip {
      border-radius: 12px;
      padding: 2px 10px;
      font-size: 0.9em;
      border: 1px solid var(--divider-color, #e0e0e0);
    }
    .chip.ok {
      color: var(--success-color, #43a047);
      border-color: var(--success-color, #43a047);
    }
    .chip.on {
      color: var(--text-primary-color, #fff);
      background: var(--success-color, #43a047);
      border-color: var(--success-color, #43a047);
    }
    .chip.small {
      padding: 0 8px;
      font-size: 0.8em;
    }
    .module {
      display: flex;
      flex-direction: column;
      gap: 4px;
      margin-bottom: 6px;
    }
    .chip.off {
      color: var(--secondary-text-color, #727272);
    }
    .chip.alarm {
      color: var(--text-primary-color, #fff);
      background: var(--error-color, #db4437);
      border-color: var(--error-color, #db4437);
      font-weight: 600;
    }
    .chip.warn {
      color: var(--text-primary-color, #fff);
      background: var(--warning-color, #ffa600);
      border-color: var(--warning-color, #ffa600);
    }
    .unavailable,
    .chip.unavailable {
      color: var(--disabled-text-color, #bdbdbd);
      font-style: italic;
    }
    .limits,
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(180px, 1fr));
      gap: 4px 16px;
      margin-top: 8px;
    }
    .row,
    .limit {
      display: flex;
      justify-content: space-between;
      gap: 8px;
    }
    .reason.congestion {
      color: var(--warning-color, #ffa600);
      font-weight: 600;
    }
    .reason.test {
      color: var(--info-color, #039be5);
      font-weight: 600;
    }
    .bar,
    .soe {
      position: relative;
      height: 10px;
      margin: 6px 0;
      border-radius: 5px;
      background: var(--secondary-background-color, #e5e5e5);
      overflow: hidden;
    }
    .bar .fill,
    .soe div {
      position: absolute;
      top: 0;
      bottom: 0;
      background: var(--primary-color, #03a9f4);
    }
    .soe div {
      left: 0;
      background: var(--success-color, #43a047);
    }
    .bar .fill.over {
      background: var(--error-color, #db4437);
    }
    .bar .bound,
    .bar .zero {
      position: absolute;
      top: 0;
      bottom: 0;
      width: 2px;
      z-index: 1;
      background: var(--error-color, #db4437);
    }
    .bar .zero {
      background: var(--primary-text-color, #212121);
      opacity: 0.4;
    }
    .empty {
      color: var(--secondary-text-color, #727272);
    }
    svg[data-role="plan-chart"] {
      display: block;
      width: 100%;
      height: 80px;
    }
    svg .axis {
      stroke: var(--divider-color, #e0e0e0);
      stroke-width: 1;
    }
    svg .discharge,
    .legend i.discharge {
      fill: var(--success-color, #43a047);
      background: var(--success-color, #43a047);
    }
    svg .charge {
      fill: var(--primary-color, #03a9f4);
    }
    svg .price {
      fill: none;
      stroke: var(--warning-color, #ffa600);
      stroke-width: 1.5;
      vector-effect: non-scaling-stroke;
    }
    .legend {
      display: flex;
      justify-content: space-between;
      gap: 8px;
      font-size: 0.8em;
      color: var(--secondary-text-color, #727272);
    }
    .legend i {
      display: inline-block;
      width: 10px;
      height: 3px;
      margin-right: 4px;
      vertical-align: middle;
    }
    .legend i.price {
      background: var(--warning-color, #ffa600);
    }
  `;
	}
};
function We(e) {
	return e?.stateObj && e.state !== "unavailable" ? e.entityId : void 0;
}
// src/index.ts
function $() {
	customElements.get("grid-ems-card") || customElements.define(Ve, Ue), customElements.get("grid-ems-card-editor") || customElements.define(He, Be);
}
$(), customElements.whenDefined("home-assistant").then($), window.customCards = window.customCards ?? [], window.customCards.some((e) => e.type === "grid-ems-card") || window.customCards.push({
	type: Ve,
	name: "Grid EMS",
	description: "Grid power against the grid operator's limits, emergency stops, the RTU link, battery and relays.",
	preview: !0
});
