-- mq_unlink: removes the name; the queue goes now if no handle is open, else with the last.
-- KEYS: name, tag. ARGV: uid
local tag = KEYS[2]
local gen = redis.call('GET', KEYS[1])
if not gen then return {'ENOENT'} end
if not is_owner(tag .. ':g' .. gen, tonumber(ARGV[1])) then return {'EPERM'} end
redis.call('DEL', KEYS[1])
if redis.call('HLEN', tag .. ':r' .. gen) == 0 then
  redis.call('DEL', tag .. ':g' .. gen, tag .. ':q' .. gen, tag .. ':d' .. gen, tag .. ':p' .. gen, tag .. ':n' .. gen, tag .. ':nf' .. gen)
end
return {'OK'}
