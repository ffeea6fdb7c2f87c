/**
 * The help of `annexgate p2phttp`, in its own module so that `annexgate
 * --help` can show it without loading the server's layers.
 */
export const P2PHTTP_HELP = `  p2phttp [OPTIONS]    serve this repository (or --directory DIR), and what
                       it proxies for, over the p2phttp API: --port --bind
                       --socket --jobs --wideopen --unauth-readonly
                       --unauth-appendonly --unauth-nolocking --authenv
                       --authenv-http --certfile --privatekeyfile --chainfile
                       --directory --clusterjobs --proxyconnections;
                       limits: --idle-timeout SECONDS (120) closes a
                       connection that moves no data, and gives up on a
                       node that makes no progress; --max-queued N (64)
                       transfers wait for a --jobs slot, more get 503;
                       --max-per-client N (32) requests at once per client
                       address, more get 429; --max-locks-per-client N (64)
                       content locks held per client address;
                       --max-idle-per-client N (64) idle connections kept
                       per client address, the oldest closed past it
                       --directory skips an entry that is a symlink to
                       outside DIR unless --follow-symlinks is given
                       --tmp-max-age DURATION (default 7d) and
                       --tmp-max-size SIZE (default none): partial uploads
                       kept for a resume, removed once older, oldest first
                       beyond the size (git config annexgate.tmp-max-age,
                       annexgate.tmp-max-size); "none" lifts a limit`;
