-- Publishes one message: assigns the next id, appends to the channel's history and
-- PUBLISHes to the instances that follow the channel, as one atomic step, so every
-- instance receives messages in id order.
--
-- KEYS: the id counter, the epoch, the channel's last-id key, the channel's stream,
-- the channel's byte total.
-- ARGV: the message's JSON, history length, history lifetime in ms, pub/sub channel,
-- history bytes per channel.
-- Returns the new id.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local data = ARGV[1]
local ttl_ms = ARGV[3]
local max_bytes = tonumber(ARGV[5])
local stream = KEYS[4]
local newest = tonumber(redis.call('GET', KEYS[1]))
if not newest then
  -- A missing counter means a new or emptied Redis: start from the clock, so new ids
  -- are larger than any id handed out before, and remember where this history begins.
  newest = now
  redis.call('SET', KEYS[2], string.format('%.0f', now))
end
-- Ids follow the clock (in microseconds) whenever it is ahead, which lets a cursor be
-- compared with how long histories live.
local id = string.format('%.0f', math.max(newest + 1, now))
-- Each entry records the channel's previous id (`p`), so a reader can tell whether the
-- entry before the oldest one it sees is gone. A channel without a last id has none
-- younger than its lifetime: everything before `now - lifetime` may have expired.
local previous = redis.call('GET', KEYS[3]) or string.format('%.0f', now - tonumber(ttl_ms) * 1000)
-- Each entry also records `t`, the bytes of data published on the channel up to and
-- including it, so the bytes a stream holds from any entry on are the newest `t`
-- minus that entry's `t` plus its own size. The newest `t` is kept in KEYS[5]; when
-- it expired with the stream, the count starts again, as the stream does.
local total = (tonumber(redis.call('GET', KEYS[5])) or 0) + #data
if redis.call('EXISTS', stream) == 0 then
  total = #data
end
local total_text = string.format('%.0f', total)
redis.call('XADD', stream, 'MAXLEN', '~', ARGV[2], id .. '-0', 'p', previous, 'd', data, 't', total_text)

-- Bounds the stream's bytes (CHANNEL_HISTORY_BYTES): drops its oldest entries until
-- what is left holds at most `max_bytes` of data, always keeping the newest entry.
-- Reads a page of entries at a time, at most PAGES of them per call, so one call's
-- work is bounded; a stream further over the bound (the bound was lowered) loses the
-- rest with the next publishes.
local PAGE, PAGES = 16, 8
local function bytes_from(entry)
  -- Entries written before `t` was recorded count as none: they are never trimmed
  -- here, but still by count and lifetime.
  local t = tonumber(entry[2][6])
  if not t then
    return 0
  end
  return total - t + #entry[2][4]
end
local added = id .. '-0'
local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)[1]
if max_bytes and oldest and bytes_from(oldest) > max_bytes then
  local keep, last = nil, nil
  for _ = 1, PAGES do
    local page = redis.call('XRANGE', stream, last and '(' .. last or '-', '+', 'COUNT', PAGE)
    for _, entry in ipairs(page) do
      if entry[1] == added or bytes_from(entry) <= max_bytes then
        keep = entry[1]
        break
      end
      last = entry[1]
    end
    if keep or #page < PAGE then
      break
    end
  end
  -- Exact trimming (not `~`), so the bound holds to the entry: MINID drops every entry
  -- below `keep`. When the pages read held none to keep, they are all dropped (ids
  -- here all end in -0, so -1 is just above the last one read).
  keep = keep or string.sub(last, 1, -3) .. '-1'
  redis.call('XTRIM', stream, 'MINID', keep)
end

redis.call('PEXPIRE', stream, ttl_ms)
redis.call('SET', KEYS[3], id, 'PX', ttl_ms)
redis.call('SET', KEYS[5], total_text, 'PX', ttl_ms)
redis.call('SET', KEYS[1], id)
redis.call('PUBLISH', ARGV[4], id .. ' ' .. data)
return id
