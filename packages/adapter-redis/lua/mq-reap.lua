-- Forgets a client whose lease ran out (or that is closing) in one queue: its registered receives
-- wait no more (a send must not hand a message to a dead inbox), its claims are dropped (what it
-- was handed is lost with it: at most the value it was receiving), and its inbox is deleted.
-- KEYS: waiters, wq, claims. ARGV: client id, inbox
local prefix = ARGV[1] .. ':'
for _, entry in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
  if string.sub(entry, 1, #prefix) == prefix then
    redis.call('HDEL', KEYS[1], string.match(entry, '^(%S+)'))
    redis.call('LREM', KEYS[2], 0, entry)
  end
end
for _, field in ipairs(redis.call('HKEYS', KEYS[3])) do
  if string.sub(field, 1, #prefix) == prefix then redis.call('HDEL', KEYS[3], field) end
end
redis.call('DEL', ARGV[2])
return {'OK'}
