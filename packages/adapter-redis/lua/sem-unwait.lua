-- Forgets a cancelled waiter (GETNCNT/GETZCNT no longer count it). KEYS[1] wait. ARGV: waiterKey
redis.call('HDEL', KEYS[1], ARGV[1])
return {'OK'}
