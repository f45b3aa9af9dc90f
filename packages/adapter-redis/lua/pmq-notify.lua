-- mq_notify: one registration per queue ('<tag>:n<gen>' = '<client> <token>'). pmq-send fires it
-- when a message arrives in the empty queue (and records it in '<tag>:nf<gen>'); pmq-close drops
-- the registration of a client that closes any handle of the queue, as Linux does.
-- KEYS: name, tag. ARGV: gen, registration ('<client> <token>'), mode ('register' | 'unregister' | 'check')
local reg, fired = KEYS[2] .. ':n' .. ARGV[1], KEYS[2] .. ':nf' .. ARGV[1]
if redis.call('EXISTS', KEYS[2] .. ':g' .. ARGV[1]) == 0 then return {'EBADF'} end
local current = redis.call('GET', reg)
if ARGV[3] == 'register' then
  if current then return {'EBUSY'} end
  redis.call('SET', reg, ARGV[2])
  return {'OK'}
end
if ARGV[3] == 'unregister' then
  if current == ARGV[2] then redis.call('DEL', reg) end
  return {'OK'}
end
if current == ARGV[2] then return {'OK', 'registered'} end
if redis.call('GET', fired) == ARGV[2] then return {'OK', 'fired'} end
return {'OK', 'dropped'}
