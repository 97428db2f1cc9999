/*!
 * Evothesis analytics pixel (development build).
 * Served at /pixel/{client_id}/tracking.js with the client's configuration embedded below; in production
 * pixel-management serves the same script. Plain ES2015, no dependencies, no build step.
 *
 * Page API:  evothesis.track(name, data)   evothesis.getStats()   evothesis.flush()
 *            evothesis.setConsent(granted) evothesis.getSessionId() evothesis.debug(on)
 * Page config, read once when the script runs (set it before the script tag):
 *   window.EvothesisConfig = { endpoint, batch_size, flush_interval, privacy_mode, custom_fields, max_retries, debug }
 */
(function (window, document) {
  'use strict';

  // The client's configuration, written by the server that serves this script (JSON, never the salt).
  var SERVED = /*__EVOTHESIS_CONFIG__*/null;

  var VERSION = '1.0.0';
  var PREFIX = '[Evothesis]';
  var SESSION_KEY = '_evothesis_session_id';
  var CONSENT_KEY = '_evothesis_consent';
  var SCROLL_MILESTONES = [25, 50, 75, 100];
  var MAX_QUEUE = 1000;
  // sendBeacon and keepalive fetches share a 64 KiB budget per page; stay below it.
  var MAX_KEEPALIVE_BYTES = 60000;
  var MAX_RETRY_DELAY_MS = 60000;
  var MAX_RETRY_AFTER_MS = 300000;
  var PRIVACY_RANK = { standard: 0, gdpr: 1, hipaa: 2 };
  // Names the collector reads from a batch envelope; custom fields must not shadow them.
  var RESERVED = ['eventType', 'event_type', 'eventId', 'event_id', 'sessionId', 'session_id', 'siteId', 'site_id',
    'timestamp', 'sentAt', 'sent_at', 'pageData', 'page_data', 'eventData', 'event_data', 'consent', 'events'];

  if (!SERVED || typeof SERVED.client_id !== 'string') {
    console.error(PREFIX + ' Invalid tracking configuration: load this script from /pixel/{client_id}/tracking.js.');
    return;
  }

  var existing = window.evothesis;
  if (existing && existing.version) {
    console.warn(PREFIX + ' The pixel is already loaded on this page; the second copy does nothing.');
    return;
  }
  // Calls made through the pre-load stub (window.evothesis = {q: [], track: ...}) are replayed below.
  var preloaded = existing && Array.isArray(existing.q) ? existing.q : [];

  var config = buildConfig(SERVED, window.EvothesisConfig);
  window.EvothesisConfig = config;

  var sessionId = readSessionId();
  var consent = readStoredConsent();
  var gpcDenies = navigator.globalPrivacyControl === true && config.privacy_mode !== 'standard';

  // Sending state. One request at a time keeps batches in order and never hammers a failing collector.
  var queue = [];           // events not yet handed to a request
  var inflight = null;      // { events, promise } being sent now
  var retry = null;         // { events, attempt, timer } waiting for its next attempt
  var flushTimer = null;
  var exiting = false;      // the page is being hidden or unloaded: send at once with sendBeacon
  var batchLimit = config.batch_size;
  var warned = {};
  var stats = {
    events_sent: 0, batches_sent: 0, last_flush: null,
    events_rejected: 0, events_dropped: 0, retries: 0, beacons: 0
  };

  // ---------------------------------------------------------------- configuration

  function buildConfig(served, page) {
    page = isPlainObject(page) ? page : {};
    var servedMode = PRIVACY_RANK.hasOwnProperty(served.privacy_mode) ? served.privacy_mode : 'standard';
    var pageMode = PRIVACY_RANK.hasOwnProperty(page.privacy_mode) ? page.privacy_mode : servedMode;
    var servedConsent = isPlainObject(served.consent) ? served.consent : {};
    return {
      client_id: served.client_id,
      endpoint: typeof page.endpoint === 'string' && page.endpoint ? page.endpoint : served.endpoint,
      batch_size: intIn(page.batch_size, 1, 500, intIn(served.batch_size, 1, 500, 20)),
      flush_interval: intIn(page.flush_interval, 50, 600000, intIn(served.flush_interval, 50, 600000, 5000)),
      // A page may make the client's privacy mode stricter, never laxer.
      privacy_mode: PRIVACY_RANK[pageMode] > PRIVACY_RANK[servedMode] ? pageMode : servedMode,
      custom_fields: isPlainObject(page.custom_fields) ? clone(page.custom_fields) || {} : {},
      consent: {
        required: servedConsent.required === true,
        default_behavior: servedConsent.default_behavior === 'opt_out' ? 'opt_out' : 'opt_in'
      },
      max_retries: intIn(page.max_retries, 0, 20, intIn(served.max_retries, 0, 20, 5)),
      debug: page.debug === true || /[?&]evothesis_debug=1(&|$)/.test(window.location.search)
    };
  }

  function intIn(value, min, max, fallback) {
    return typeof value === 'number' && isFinite(value) ? Math.min(max, Math.max(min, Math.round(value))) : fallback;
  }

  function isPlainObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  // A JSON copy: drops functions, DOM nodes' internals and undefined; refuses cycles.
  function clone(value) {
    try {
      return JSON.parse(JSON.stringify(value));
    } catch (e) {
      return undefined;
    }
  }

  // ---------------------------------------------------------------- identity and consent

  function newId() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === 'function') {
      return c.randomUUID();
    }
    // randomUUID needs a secure context; getRandomValues does not.
    var b = new Uint8Array(16);
    c.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = '';
    for (var i = 0; i < 16; i++) {
      h += (b[i] + 0x100).toString(16).slice(1);
      if (i === 3 || i === 5 || i === 7 || i === 9) {
        h += '-';
      }
    }
    return h;
  }

  // A UUIDv7: the first 48 bits are the time in milliseconds, the rest random. Event ids are keys of PostgreSQL's per-day
  // unique index; ids that grow with time are added at the index's right edge (a few hot pages) instead of all over it,
  // which makes the collector's writes a quarter to a third cheaper for the database, and dedups exactly as well.
  function newEventId() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    var ms = ('000000000000' + Date.now().toString(16)).slice(-12);
    b[6] = (b[6] & 0x0f) | 0x70;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = ms.slice(0, 8) + '-' + ms.slice(8, 12) + '-';
    for (var i = 6; i < 16; i++) {
      h += (b[i] + 0x100).toString(16).slice(1);
      if (i === 7 || i === 9) {
        h += '-';
      }
    }
    return h;
  }

  // One session per tab: sessionStorage survives reloads and navigation in the tab, and no other tab sees it.
  function readSessionId() {
    try {
      var id = window.sessionStorage.getItem(SESSION_KEY);
      if (!id) {
        id = newId();
        window.sessionStorage.setItem(SESSION_KEY, id);
      }
      return id;
    } catch (e) {
      return newId();
    }
  }

  function readStoredConsent() {
    try {
      var value = window.localStorage.getItem(CONSENT_KEY);
      return value === 'granted' || value === 'denied' ? value : null;
    } catch (e) {
      return null;
    }
  }

  function trackingAllowed() {
    return consent !== 'denied' && !gpcDenies;
  }

  // Events wait (in memory) while the client requires consent, defaults to opt-out and none was given.
  function sendingAllowed() {
    if (!trackingAllowed()) {
      return false;
    }
    return consent === 'granted' || !config.consent.required || config.consent.default_behavior === 'opt_in';
  }

  function setConsent(granted) {
    consent = granted ? 'granted' : 'denied';
    try {
      window.localStorage.setItem(CONSENT_KEY, consent);
    } catch (e) {
      // Storage may be blocked; the decision still holds for this page.
    }
    if (granted) {
      scheduleFlush();
    } else {
      queue = [];
      if (retry) {
        clearTimeout(retry.timer);
        retry = null;
      }
    }
    debugLog('consent ' + consent);
  }

  // ---------------------------------------------------------------- privacy of what is captured

  // standard: the URL as is; gdpr: no fragment and only utm_* parameters; hipaa: origin and path only.
  function cleanUrl(href) {
    if (!href) {
      return href;
    }
    var url;
    try {
      url = new URL(href, window.location.href);
    } catch (e) {
      return null;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return url.protocol;
    }
    url.username = '';
    url.password = '';
    if (config.privacy_mode === 'standard') {
      return url.href;
    }
    url.hash = '';
    if (config.privacy_mode === 'hipaa') {
      url.search = '';
      return url.href;
    }
    var kept = [];
    url.searchParams.forEach(function (value, key) {
      if (/^utm_/i.test(key)) {
        kept.push([key, value]);
      }
    });
    url.search = '';
    kept.forEach(function (pair) {
      url.searchParams.append(pair[0], pair[1]);
    });
    return url.href;
  }

  function pageData() {
    var data = {
      url: cleanUrl(window.location.href),
      path: window.location.pathname,
      title: document.title
    };
    if (document.referrer) {
      data.referrer = config.privacy_mode === 'hipaa'
        ? safeOrigin(document.referrer)
        : cleanUrl(document.referrer);
    }
    return data;
  }

  function safeOrigin(href) {
    try {
      return new URL(href).origin;
    } catch (e) {
      return null;
    }
  }

  // ---------------------------------------------------------------- tracking

  function track(eventType, data) {
    if (typeof eventType !== 'string' || !eventType || eventType.length > 100 || eventType === 'batch') {
      warnOnce('name', 'track() needs an event name of 1 to 100 characters (not "batch").');
      return null;
    }
    if (!trackingAllowed()) {
      return null;
    }
    var eventData = data === undefined || data === null ? undefined : clone(isPlainObject(data) ? data : { value: data });
    if (data !== undefined && data !== null && eventData === undefined) {
      warnOnce('data', 'track() data must be JSON-serializable; the event was sent without it.');
    }
    var event = {
      eventType: eventType,
      eventId: newEventId(),
      timestamp: new Date().toISOString(),
      page_data: pageData()
    };
    if (eventData !== undefined) {
      event.event_data = eventData;
    }
    queue.push(event);
    if (queue.length > MAX_QUEUE) {
      var dropped = queue.splice(0, queue.length - MAX_QUEUE).length;
      stats.events_dropped += dropped;
      warnOnce('queue', 'More than ' + MAX_QUEUE + ' events are waiting; the oldest are dropped.');
    }
    emit('evothesis:track', clone(event));
    debugLog('queued ' + eventType, event);
    if (exiting) {
      sendAllWithBeacon();
    } else {
      scheduleFlush();
    }
    return event.eventId;
  }

  // ---------------------------------------------------------------- batching and delivery

  function scheduleFlush() {
    if (!sendingAllowed() || inflight || retry || queue.length === 0) {
      return;
    }
    if (queue.length >= batchLimit) {
      sendNext();
    } else if (!flushTimer) {
      flushTimer = setTimeout(function () {
        flushTimer = null;
        sendNext();
      }, config.flush_interval);
    }
  }

  function sendNext() {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    if (!sendingAllowed() || inflight || retry || queue.length === 0) {
      return inflight ? inflight.promise : Promise.resolve();
    }
    return send(queue.splice(0, batchLimit), 0);
  }

  // Sends everything queued, one batch after another; resolves when done or when delivery must wait.
  function drain() {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    if (inflight) {
      return inflight.promise.then(drain);
    }
    if (retry || !sendingAllowed() || queue.length === 0) {
      return Promise.resolve();
    }
    return sendNext().then(drain);
  }

  function envelope(events) {
    var first = events[0].page_data;
    var firstKey = JSON.stringify(first);
    var body = {
      eventType: 'batch',
      sessionId: sessionId,
      siteId: window.location.hostname,
      sentAt: new Date().toISOString(),
      page_data: first,
      events: events.map(function (e) {
        var member = { eventType: e.eventType, eventId: e.eventId, timestamp: e.timestamp };
        // Members inherit the envelope's page_data; only those from another page (SPA) carry their own.
        if (JSON.stringify(e.page_data) !== firstKey) {
          member.page_data = e.page_data;
        }
        if (e.event_data !== undefined) {
          member.event_data = e.event_data;
        }
        return member;
      })
    };
    if (consent === 'granted') {
      body.consent = 'granted';
    }
    Object.keys(config.custom_fields).forEach(function (key) {
      if (RESERVED.indexOf(key) < 0) {
        body[key] = config.custom_fields[key];
      } else {
        warnOnce('reserved:' + key, 'custom_fields.' + key + ' is a name the collector reserves; it is not sent.');
      }
    });
    return JSON.stringify(body);
  }

  function send(events, attempt) {
    var body = envelope(events);
    var request;
    try {
      request = window.fetch(config.endpoint, {
        method: 'POST',
        // text/plain is a CORS-safelisted type: no preflight per batch, as with sendBeacon.
        headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
        body: body,
        // A batch in flight when the visitor leaves still completes.
        keepalive: byteLength(body) <= MAX_KEEPALIVE_BYTES,
        credentials: 'omit',
        cache: 'no-store'
      });
    } catch (e) {
      request = Promise.reject(e);
    }
    var promise = request.then(
      function (response) { return handleResponse(response, events, attempt); },
      function () { failed(events, attempt, null, 'network error'); });
    inflight = { events: events, promise: promise };
    debugLog('sending ' + events.length + ' event(s), attempt ' + (attempt + 1));
    return promise;
  }

  function handleResponse(response, events, attempt) {
    var status = response.status;
    if (response.ok) {
      return response.json().catch(function () { return null; }).then(function (result) {
        var rejected = result && Array.isArray(result.rejected) ? result.rejected : [];
        var accepted = result && typeof result.accepted === 'number' ? result.accepted : events.length - rejected.length;
        stats.events_sent += accepted;
        stats.events_rejected += rejected.length;
        stats.batches_sent += 1;
        stats.last_flush = new Date().toISOString();
        if (rejected.length) {
          // Rejected members are final (invalid, or dropped by the client's privacy rules): never resent.
          var reasons = rejected.map(function (r) { return r && r.reason; }).filter(Boolean);
          warnOnce('rejected:' + reasons.join(','), 'The collector rejected ' + rejected.length +
            ' event(s): ' + (reasons.join(', ') || 'no reason given') + '.');
        }
        emit('evothesis:send', { transport: 'fetch', status: status, events: events.length, accepted: accepted, rejected: rejected.length });
        inflight = null;
        scheduleFlush();
      });
    }

    if (status === 408 || status === 429 || status >= 500) {
      failed(events, attempt, parseRetryAfter(response.headers.get('Retry-After')), 'HTTP ' + status);
      return undefined;
    }

    inflight = null;
    if (status === 413 && events.length > 1) {
      // Too large for the collector's limits: send it in halves, and smaller batches from now on.
      batchLimit = Math.max(1, Math.floor(events.length / 2));
      queue = events.concat(queue);
      scheduleFlush();
      return undefined;
    }

    // Any other answer is final for this batch: resending the same events cannot succeed.
    stats.events_dropped += events.length;
    return response.json().catch(function () { return null; }).then(function (problem) {
      var why = problem && (problem.detail || problem.title) ? ': ' + (problem.detail || problem.title) : '';
      warnOnce('status:' + status, 'The collector refused ' + events.length + ' event(s) with HTTP ' + status + why +
        (status === 403 ? ' Is ' + window.location.hostname + ' authorized for client ' + config.client_id + '?' : ''));
      emit('evothesis:send', { transport: 'fetch', status: status, events: events.length, accepted: 0, rejected: events.length });
      scheduleFlush();
    });
  }

  function failed(events, attempt, retryAfterMs, why) {
    inflight = null;
    if (attempt >= config.max_retries) {
      stats.events_dropped += events.length;
      console.warn(PREFIX + ' Gave up sending ' + events.length + ' event(s) after ' + (attempt + 1) + ' attempts (' + why + ').');
      scheduleFlush();
      return;
    }
    // Exponential backoff with jitter, unless the collector said how long to wait.
    var delay = retryAfterMs !== null
      ? Math.min(retryAfterMs, MAX_RETRY_AFTER_MS)
      : Math.min(MAX_RETRY_DELAY_MS, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
    stats.retries += 1;
    debugLog('retrying ' + events.length + ' event(s) in ' + Math.round(delay) + ' ms (' + why + ')');
    var entry = { events: events, attempt: attempt + 1, timer: 0 };
    entry.timer = setTimeout(function () {
      if (retry === entry) {
        retry = null;
        send(entry.events, entry.attempt);
      }
    }, delay);
    retry = entry;
  }

  function parseRetryAfter(value) {
    if (!value) {
      return null;
    }
    if (/^\s*\d+\s*$/.test(value)) {
      return parseInt(value, 10) * 1000;
    }
    var date = Date.parse(value);
    return isNaN(date) ? null : Math.max(0, date - Date.now());
  }

  // The page is going away (or may be killed while hidden): hand every waiting event to sendBeacon, which
  // the browser delivers after the page is gone. A batch already in flight completes as a keepalive fetch.
  function sendAllWithBeacon() {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    if (!sendingAllowed()) {
      return;
    }
    var events = [];
    if (retry) {
      clearTimeout(retry.timer);
      events = retry.events;
      retry = null;
    }
    events = events.concat(queue);
    queue = [];
    while (events.length) {
      beacon(events.splice(0, batchLimit));
    }
  }

  function beacon(events) {
    var body = envelope(events);
    if (byteLength(body) > MAX_KEEPALIVE_BYTES && events.length > 1) {
      var half = Math.ceil(events.length / 2);
      beacon(events.slice(0, half));
      beacon(events.slice(half));
      return;
    }
    var handed = false;
    try {
      // A string body is sent as text/plain;charset=UTF-8: no preflight, so it survives the unload.
      handed = typeof navigator.sendBeacon === 'function' && navigator.sendBeacon(config.endpoint, body);
    } catch (e) {
      handed = false;
    }
    if (!handed) {
      try {
        window.fetch(config.endpoint, {
          method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body: body,
          keepalive: true, credentials: 'omit'
        }).catch(function () {});
        handed = true;
      } catch (e) {
        handed = false;
      }
    }
    if (handed) {
      // Counted when the browser takes the beacon: its answer is never seen.
      stats.events_sent += events.length;
      stats.batches_sent += 1;
      stats.beacons += 1;
      stats.last_flush = new Date().toISOString();
      emit('evothesis:send', { transport: 'beacon', status: null, events: events.length, accepted: events.length, rejected: 0 });
    } else {
      stats.events_dropped += events.length;
    }
  }

  function byteLength(text) {
    return typeof TextEncoder === 'function' ? new TextEncoder().encode(text).length : text.length * 3;
  }

  // ---------------------------------------------------------------- automatic events

  var scrollReached = {};
  var focusedFields = {};
  var lastPageKey = null;

  function trackPageview() {
    var key = window.location.pathname + window.location.search;
    lastPageKey = key;
    scrollReached = {};
    focusedFields = {};
    var data = {};
    var utm = {};
    new URLSearchParams(window.location.search).forEach(function (value, name) {
      if (/^utm_(source|medium|campaign|term|content)$/i.test(name)) {
        utm[name.toLowerCase()] = value;
      }
    });
    if (Object.keys(utm).length) {
      data.utm = utm;
    }
    data.viewport = window.innerWidth + 'x' + window.innerHeight;
    if (config.privacy_mode === 'standard') {
      data.language = navigator.language;
    }
    track('pageview', data);
  }

  // Single-page applications: a new history entry with another path or query is another page view.
  function onHistoryChange() {
    if (window.location.pathname + window.location.search !== lastPageKey) {
      trackPageview();
    }
  }

  function wrapHistory(name) {
    var original = window.history[name];
    if (typeof original !== 'function') {
      return;
    }
    window.history[name] = function () {
      var result = original.apply(this, arguments);
      onHistoryChange();
      return result;
    };
  }

  function elementText(el) {
    var text = el.tagName === 'INPUT' ? el.getAttribute('value') || '' : el.textContent || '';
    return text.replace(/\s+/g, ' ').trim().slice(0, 100);
  }

  function isField(el) {
    if (!el || el.nodeType !== 1) {
      return false;
    }
    var tag = el.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT') {
      return true;
    }
    return tag === 'INPUT' && !/^(submit|button|reset|image|hidden)$/i.test(el.type);
  }

  // Attribute reads, not properties: form.name and form.id are shadowed by fields called "name" or "id".
  function formName(form) {
    if (!form) {
      return null;
    }
    return form.getAttribute('name') || form.getAttribute('id') || form.getAttribute('action') || 'form';
  }

  function fieldName(el) {
    return el.getAttribute('name') || el.getAttribute('id') || el.getAttribute('aria-label') || 'unnamed';
  }

  function fieldType(el) {
    return el.tagName === 'INPUT' ? (el.getAttribute('type') || 'text').toLowerCase() : el.tagName.toLowerCase();
  }

  function onClick(e) {
    var target = e.target;
    if (!target || target.nodeType !== 1) {
      target = target && target.parentElement;
    }
    if (!target || typeof target.closest !== 'function' || target.closest('[data-evothesis-ignore]')) {
      return;
    }
    var el = target.closest('a[href],button,[role="button"],input[type="submit"],input[type="button"],[data-evothesis-event]') || target;
    // Clicks into fields are form interactions (form_focus); their values are never read.
    if (isField(el) || el.tagName === 'OPTION' || el.tagName === 'LABEL') {
      return;
    }
    var data = { element: el.tagName.toLowerCase() };
    if (el.id) {
      data.id = el.id;
    }
    var classes = typeof el.className === 'string' ? el.className.trim() : '';
    if (classes) {
      data.classes = classes.slice(0, 200);
    }
    var label = el.getAttribute('data-evothesis-label');
    if (label) {
      data.label = label.slice(0, 100);
    }
    if (config.privacy_mode === 'standard') {
      var text = elementText(el);
      if (text) {
        data.text = text;
      }
    }
    if (el.tagName === 'A' && el.getAttribute('href')) {
      data.href = cleanUrl(el.href);
    }
    track(el.getAttribute('data-evothesis-event') || 'click', data);
  }

  var scrollPending = false;

  function onScroll() {
    if (scrollPending) {
      return;
    }
    scrollPending = true;
    setTimeout(function () {
      scrollPending = false;
      measureScroll();
    }, 100);
  }

  function measureScroll() {
    var root = document.documentElement;
    var height = Math.max(root.scrollHeight, document.body ? document.body.scrollHeight : 0);
    var scrollable = height - window.innerHeight;
    if (scrollable <= 0) {
      return;
    }
    var depth = Math.min(100, Math.round((window.scrollY || root.scrollTop) / scrollable * 100));
    SCROLL_MILESTONES.forEach(function (milestone) {
      if (depth >= milestone && !scrollReached[milestone]) {
        scrollReached[milestone] = true;
        track('scroll', { depth: milestone });
      }
    });
  }

  function onFocusIn(e) {
    var el = e.target;
    if (!isField(el)) {
      return;
    }
    // Names the collector's redaction knows as form metadata (form_name, field_name, field_names), so they are kept.
    var data = { form_name: formName(el.form), field_name: fieldName(el), field_type: fieldType(el) };
    var key = data.form_name + '\u0000' + data.field_name;
    if (focusedFields[key]) {
      return;
    }
    focusedFields[key] = true;
    track('form_focus', data);
  }

  // Field names only: no value (not even whether a field is empty) ever leaves the browser.
  function onSubmit(e) {
    var form = e.target;
    if (!form || form.tagName !== 'FORM') {
      return;
    }
    var fields = [];
    var elements = form.querySelectorAll('input, select, textarea');
    for (var i = 0; i < elements.length; i++) {
      if (isField(elements[i])) {
        var name = fieldName(elements[i]);
        if (fields.indexOf(name) < 0) {
          fields.push(name);
        }
      }
    }
    track('form_submit', { form_name: formName(form), field_names: fields, field_count: fields.length });
  }

  function onPageHide() {
    exiting = true;
    sendAllWithBeacon();
  }

  function onVisibilityChange() {
    if (document.visibilityState === 'hidden') {
      sendAllWithBeacon();
    }
  }

  function onPageShow(e) {
    exiting = false;
    // Restored from the back/forward cache: the visitor sees the page again.
    if (e.persisted) {
      trackPageview();
    }
  }

  // ---------------------------------------------------------------- helpers

  function emit(name, detail) {
    try {
      window.dispatchEvent(new CustomEvent(name, { detail: detail }));
    } catch (e) {
      // Observers are optional.
    }
  }

  function warnOnce(key, message) {
    if (!warned[key]) {
      warned[key] = true;
      console.warn(PREFIX + ' ' + message);
    }
  }

  function debugLog(message, data) {
    if (config.debug) {
      if (data === undefined) {
        console.debug(PREFIX + ' ' + message);
      } else {
        console.debug(PREFIX + ' ' + message, data);
      }
    }
  }

  function getStats() {
    var waiting = queue.length + (inflight ? inflight.events.length : 0) + (retry ? retry.events.length : 0);
    return {
      events_queued: waiting,
      events_sent: stats.events_sent,
      batches_sent: stats.batches_sent,
      avg_batch_size: stats.batches_sent ? Math.round(stats.events_sent / stats.batches_sent * 10) / 10 : 0,
      last_flush: stats.last_flush,
      events_rejected: stats.events_rejected,
      events_dropped: stats.events_dropped,
      retries: stats.retries,
      beacons: stats.beacons
    };
  }

  // ---------------------------------------------------------------- start

  window.evothesis = {
    version: VERSION,
    track: track,
    getStats: getStats,
    flush: drain,
    setConsent: setConsent,
    getSessionId: function () { return sessionId; },
    debug: function (on) { config.debug = on !== false; }
  };

  document.addEventListener('click', onClick, true);
  document.addEventListener('focusin', onFocusIn, true);
  document.addEventListener('submit', onSubmit, true);
  window.addEventListener('scroll', onScroll, { passive: true });
  window.addEventListener('pagehide', onPageHide);
  window.addEventListener('pageshow', onPageShow);
  document.addEventListener('visibilitychange', onVisibilityChange);
  window.addEventListener('online', function () {
    if (retry) {
      var entry = retry;
      clearTimeout(entry.timer);
      retry = null;
      send(entry.events, entry.attempt);
    }
  });
  window.addEventListener('popstate', onHistoryChange);
  wrapHistory('pushState');
  wrapHistory('replaceState');

  console.log(PREFIX + ' Analytics pixel loaded for client: ' + config.client_id);
  if (gpcDenies) {
    console.log(PREFIX + ' Global Privacy Control is on: nothing is tracked.');
  } else if (consent === 'denied') {
    console.log(PREFIX + ' The visitor declined analytics: nothing is tracked.');
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', trackPageview);
  } else {
    trackPageview();
  }

  preloaded.forEach(function (args) {
    track.apply(null, Array.prototype.slice.call(args));
  });
})(window, document);
