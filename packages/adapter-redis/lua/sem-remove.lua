-- semctl(IPC_RMID): deletes the set; waiters learn it from the 'x' notice (EIDRM).
-- KEYS: meta, val, pid, undo, wait. ARGV: id, uid, tag
if not alive(KEYS[1], ARGV[1]) then return {'EINVAL'} end
if not is_owner(KEYS[1], tonumber(ARGV[2])) then return {'EPERM'} end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('PUBLISH', ARGV[3] .. ':ch', 'x')
return {'OK'}
