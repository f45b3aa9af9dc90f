-- mq_close: one handle fewer for this client; an unlinked queue goes with its last handle.
-- KEYS: name, tag. ARGV: gen, clientId, count (0 = all of the client's handles)
local tag, gen = KEYS[2], ARGV[1]
local refs = tag .. ':r' .. gen
if ARGV[3] == '0' then
  redis.call('HDEL', refs, ARGV[2])
else
  local left = redis.call('HINCRBY', refs, ARGV[2], -tonumber(ARGV[3]))
  if left <= 0 then redis.call('HDEL', refs, ARGV[2]) end
end
-- Linux drops a process's notification registration when it closes any descriptor of the queue.
local registration = redis.call('GET', tag .. ':n' .. gen)
if registration and string.sub(registration, 1, #ARGV[2] + 1) == ARGV[2] .. ' ' then
  redis.call('DEL', tag .. ':n' .. gen)
  redis.call('PUBLISH', tag .. ':ch', 'k' .. registration)
end
if redis.call('GET', KEYS[1]) ~= gen and redis.call('HLEN', refs) == 0 then
  redis.call('DEL', tag .. ':g' .. gen, refs, tag .. ':q' .. gen, tag .. ':d' .. gen, tag .. ':p' .. gen, tag .. ':n' .. gen, tag .. ':nf' .. gen)
end
return {'OK'}
