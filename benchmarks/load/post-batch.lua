-- wrk script: every request posts a batch of 10 events for the sample's client_test, like the pixel does.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local events = {}
for i = 1, 10 do
  events[#events + 1] = string.format(
    '{"eventType":"click","eventId":"e%d","timestamp":"2026-11-26T11:59:5%d.000Z",' ..
    '"event_data":{"element":"button#add-to-cart","x":%d,"y":%d,"text":"Add to cart"},' ..
    '"page_data":{"url":"http://localhost/products.html?category=shoes","title":"Products"}}', i, i % 10, i * 7, i * 3)
end

wrk.body = '{"eventType":"batch","sessionId":"sess_load","siteId":"localhost","sentAt":"2026-11-26T12:00:00Z",' ..
  '"visitorId":"v_load","events":[' .. table.concat(events, ",") .. ']}'

done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
