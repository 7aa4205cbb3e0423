-- Publishes one message: assigns the next id, appends to the channel's history and
-- PUBLISHes to the instances that follow the channel, as one atomic step, so every
-- instance receives messages in id order.
--
-- KEYS: the id counter, the epoch, the channel's last-id key, the channel's stream.
-- ARGV: the message's JSON, history length, history lifetime in ms, pub/sub channel.
-- Returns the new id.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local ttl_ms = ARGV[3]
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
-- Each entry records the channel's previous id, so a reader can tell whether the entry
-- before the oldest one it sees is gone. A channel without a last id has none younger
-- than its lifetime: everything before `now - lifetime` may have expired.
local previous = redis.call('GET', KEYS[3]) or string.format('%.0f', now - tonumber(ttl_ms) * 1000)
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[2], id .. '-0', 'p', previous, 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[4], ttl_ms)
redis.call('SET', KEYS[3], id, 'PX', ttl_ms)
redis.call('SET', KEYS[1], id)
redis.call('PUBLISH', ARGV[4], id .. ' ' .. ARGV[1])
return id
