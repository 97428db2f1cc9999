/*
 * The contact form has no backend: on submit it thanks the visitor and shows the form_submit event the
 * pixel queued (taken from the pixel's evothesis:track event), so anyone can see that it holds field names
 * and nothing that was typed.
 */
(function () {
  'use strict';

  var lastFormEvent = null;

  window.addEventListener('evothesis:track', function (e) {
    if (e.detail && e.detail.eventType === 'form_submit') {
      lastFormEvent = e.detail;
    }
  });

  function init() {
    var form = document.getElementById('contact-form');
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var missing = ['name', 'email', 'message'].some(function (id) {
        return !document.getElementById(id).value.trim();
      });
      document.getElementById('form-error').hidden = !missing;
      if (missing) {
        return;
      }

      form.reset();
      form.hidden = true;
      document.getElementById('success').hidden = false;
      var payload = document.getElementById('payload');
      payload.textContent = lastFormEvent
        ? JSON.stringify({ eventType: lastFormEvent.eventType, event_data: lastFormEvent.event_data }, null, 2)
        : 'The pixel is not loaded: nothing was sent.';
      payload.hidden = false;
    });
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
