-- wrk script: like post-batch.lua (a batch of 10 clicks for the sample's client_test, ~1.6 KB), but every event has an
-- eventId of its own, a UUIDv7 as the tracking script makes them (the time first, here to the second, the rest
-- random), so that a sink that stores each eventId once (PostgreSQL) stores every event sent. Each request's body is
-- built when it is sent.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0) * 7919 + math.floor(os.clock() * 1e6))
end

local function uuid7()
  local ms = os.time() * 1000 + math.random(0, 999)
  local high = math.floor(ms / 0x10000)
  return string.format("%08x-%04x-7%03x-%04x-%06x%06x",
    high, ms - high * 0x10000, math.random(0, 0xfff),
    0x8000 + math.random(0, 0x3fff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end

request = function()
  counter = counter + 1
  local events = {}
  for i = 1, 10 do
    events[#events + 1] = string.format(
      '{"eventType":"click","eventId":"%s","timestamp":"2026-11-26T11:59:5%d.000Z",' ..
      '"event_data":{"element":"button#add-to-cart","x":%d,"y":%d,"text":"Add to cart"},' ..
      '"page_data":{"url":"http://localhost/products.html?category=shoes","title":"Products"}}', uuid7(), i % 10, i * 7, i * 3)
  end

  local body = '{"eventType":"batch","sessionId":"sess_load","siteId":"localhost","sentAt":"2026-11-26T12:00:00Z",' ..
    '"visitorId":"v_load","events":[' .. table.concat(events, ",") .. ']}'
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
