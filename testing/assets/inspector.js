/*
 * The "Live analytics" panel of the demo site: what the pixel queued and sent (evothesis.getStats() and
 * the pixel's evothesis:track / evothesis:send events), and how many of this tab's events the collector
 * has stored (GET /events/recent). The panel is marked data-evothesis-ignore: clicking it tracks nothing.
 */
(function () {
  'use strict';

  var panel = document.createElement('aside');
  panel.className = 'inspector';
  panel.setAttribute('data-evothesis-ignore', '');
  panel.setAttribute('aria-label', 'Live analytics');
  panel.innerHTML =
    '<header title="Show or hide the details">' +
    '  <strong><span class="dot"></span>Live analytics</strong>' +
    '  <span class="summary">loading pixel...</span><span class="chevron" aria-hidden="true"></span>' +
    '</header>' +
    '<div class="body">' +
    '  <div class="client"></div>' +
    '  <div class="stats">' +
    '    <div class="stat"><b data-stat="events_queued">0</b><span>queued</span></div>' +
    '    <div class="stat"><b data-stat="events_sent">0</b><span>sent</span></div>' +
    '    <div class="stat"><b data-stat="stored">-</b><span>stored</span></div>' +
    '    <div class="stat"><b data-stat="batches_sent">0</b><span>batches</span></div>' +
    '    <div class="stat"><b data-stat="avg_batch_size">0</b><span>avg batch</span></div>' +
    '    <div class="stat"><b data-stat="last_flush">-</b><span>last flush</span></div>' +
    '  </div>' +
    '  <ul class="stream"></ul>' +
    '  <div class="footer"><a class="recent" href="/events/recent" target="_blank" rel="noopener">Stored events &rarr;</a>' +
    '  <button type="button" class="send-now">Send now</button></div>' +
    '</div>';

  function init() {
    document.body.appendChild(panel);
    // Collapsed unless opened in this tab: open, it would cover the bottom right of the page.
    if (sessionStorage.getItem('_demo_inspector') !== 'open') {
      panel.classList.add('collapsed');
    }
    panel.querySelector('header').addEventListener('click', function () {
      panel.classList.toggle('collapsed');
      sessionStorage.setItem('_demo_inspector', panel.classList.contains('collapsed') ? 'collapsed' : 'open');
      refreshStored();
    });
    panel.querySelector('.send-now').addEventListener('click', function () {
      if (pixelReady()) {
        window.evothesis.flush();
      }
    });
    setInterval(refresh, 500);
    setInterval(refreshStored, 3000);
    refresh();
  }

  function pixelReady() {
    return window.evothesis && typeof window.evothesis.getStats === 'function';
  }

  function refresh() {
    if (!pixelReady()) {
      return;
    }
    var config = window.EvothesisConfig || {};
    panel.querySelector('.dot').classList.add('live');
    panel.querySelector('.client').textContent = 'client ' + config.client_id + ' \u00b7 privacy ' + config.privacy_mode +
      ' \u00b7 batches of ' + config.batch_size + ' or every ' + config.flush_interval / 1000 + ' s';
    panel.querySelector('.recent').href = '/events/recent?client_id=' + encodeURIComponent(config.client_id) + '&limit=20';
    var stats = window.evothesis.getStats();
    ['events_queued', 'events_sent', 'batches_sent', 'avg_batch_size'].forEach(function (name) {
      panel.querySelector('[data-stat="' + name + '"]').textContent = stats[name];
    });
    panel.querySelector('[data-stat="last_flush"]').textContent = stats.last_flush
      ? new Date(stats.last_flush).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
      : '-';
    panel.querySelector('.summary').textContent = stats.events_queued + ' queued \u00b7 ' + stats.events_sent + ' sent \u00b7 ' +
      panel.querySelector('[data-stat="stored"]').textContent + ' stored';
  }

  // Stored events of this tab's session: the whole loop, browser to collector to storage.
  function refreshStored() {
    if (!pixelReady()) {
      return;
    }
    var config = window.EvothesisConfig || {};
    var session = window.evothesis.getSessionId();
    fetch('/events/recent?limit=1000&client_id=' + encodeURIComponent(config.client_id), { cache: 'no-store' })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (events) {
        panel.querySelector('[data-stat="stored"]').textContent = Array.isArray(events)
          ? events.filter(function (e) { return e.sessionId === session; }).length
          : 'n/a';
      })
      .catch(function () {
        panel.querySelector('[data-stat="stored"]').textContent = 'n/a';
      });
  }

  function describe(event) {
    var d = event.event_data || {};
    switch (event.eventType) {
      case 'pageview': return event.page_data && event.page_data.path;
      case 'click': return d.label || d.text || d.id || d.element;
      case 'scroll': return d.depth + '%';
      case 'form_focus': return d.field_name;
      case 'form_submit': return (d.field_names || []).join(', ');
      case 'purchase': return d.order_id + ' ' + d.value + ' ' + d.currency;
      default: return d.name || d.product_id || '';
    }
  }

  // Counts change when the pixel queues or sends: show it at once, and ask for the stored count soon after.
  var storedTimer = null;
  window.addEventListener('evothesis:send', function () {
    refresh();
    clearTimeout(storedTimer);
    storedTimer = setTimeout(refreshStored, 300);
  });

  window.addEventListener('evothesis:track', function (e) {
    setTimeout(refresh, 0);
    var list = panel.querySelector('.stream');
    var item = document.createElement('li');
    var type = document.createElement('span');
    type.className = 'type';
    type.textContent = e.detail.eventType;
    var detail = document.createElement('span');
    detail.className = 'detail';
    detail.textContent = describe(e.detail) || '';
    item.appendChild(type);
    item.appendChild(detail);
    list.insertBefore(item, list.firstChild);
    while (list.children.length > 30) {
      list.removeChild(list.lastChild);
    }
  });

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
