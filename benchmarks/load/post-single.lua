-- wrk script: every request posts one event of about 1 KB for the sample's client_test, as a page view beacon does.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

wrk.body = '{"eventType":"pageview","eventId":"p1","sessionId":"sess_load","siteId":"localhost",' ..
  '"timestamp":"2026-11-26T11:59:58.000Z","sentAt":"2026-11-26T12:00:00Z",' ..
  '"page_data":{"url":"http://localhost/products.html?category=shoes&sort=price","title":"Products - Shoes",' ..
  '"referrer":"https://www.google.com/search?q=running+shoes","language":"en-US","screen":"1920x1080",' ..
  '"viewport":"1280x720","timezone":"Europe/Berlin"},' ..
  '"event_data":{"load_time_ms":412,"dom_ready_ms":188,"first_paint_ms":240,"scroll_depth":0,' ..
  '"experiment":"checkout-v2","variant":"b","items_viewed":["sku-1001","sku-1002","sku-1003","sku-1004"],' ..
  '"category_path":"Home > Sports > Running > Shoes","campaign":{"source":"newsletter","medium":"email",' ..
  '"name":"winter-sale-2026","content":"hero-banner","term":"running shoes"}},' ..
  '"consent":{"analytics":true,"marketing":false},"visitorId":"v_load_0001","appVersion":"4.18.2",' ..
  '"device":{"type":"desktop","os":"Linux","browser":"Chromium","browser_version":"156.0"},' ..
  '"padding":"' .. string.rep("x", 180) .. '"}'

done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
