package io.proxyfleet.backend;

import io.netty.channel.EventLoop;
import io.proxyfleet.config.RuntimeConfig;
import io.proxyfleet.protocol.ErrPacket;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Finds a backend connection for a session: picks an ONLINE server of the hostgroup by weight, reuses an idle
 * connection of the session's event loop or opens a new one there, and retries other servers until
 * mysql-connect_timeout_server_max runs out. Stateless apart from the shared {@link Hostgroups}; every call runs
 * on the session's event loop and calls back on it.
 */
public final class BackendConnector {
    /** ProxySQL's error for a hostgroup that yielded no connection in time. */
    public static final int ERR_MAX_CONNECT_TIMEOUT = 9001;
    private static final long IDLE_RETRY_MILLIS = 50;
    /**
     * How long a session waits at a server's max_connections for a wake-up before it looks again by itself (the
     * pool's periodic check does it): a wake-up may have gone to a session that stopped waiting meanwhile. Far
     * above a normal wait (2,000 clients on 50 connections wait 100 to 200 ms each), since every look that finds
     * nothing costs a turn through the queue.
     */
    private static final long WAKE_GUARD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Hostgroups hostgroups;

    public BackendConnector(Hostgroups hostgroups) {
        this.hostgroups = hostgroups;
    }

    public Hostgroups hostgroups() {
        return hostgroups;
    }

    /** The backend connection pool of {@code loop}, this node's own; call on that loop. */
    public BackendPool pool(EventLoop loop) {
        return hostgroups.pools().of(loop);
    }

    /** Receives the outcome of {@link #acquire}. */
    public interface Callback {
        void acquired(BackendConnection connection);

        void failed(ErrPacket error);

        /**
         * Whether the requester still wants a connection; asked on the loop before each retry and when a new
         * connection is ready. Once false the attempt stops, and a connection it opened goes to the pool.
         */
        default boolean stillWaiting() {
            return true;
        }
    }

    /** What a session asks for. */
    public record Request(int hostgroup, BackendCredentials credentials, String schema, int formatCapabilities,
                          int collation) {
    }

    /** The mysql-* variables of connecting, parsed once per loaded variables module rather than per query. */
    private record Settings(RuntimeConfig.Variables source, long connectTimeoutMaxNanos, int connectTimeout,
                            int shunOnFailures, long retryDelayMillis, long recoveryNanos, long defaultMaxLatencyMicros) {
        private static volatile Settings last;

        static Settings of(RuntimeConfig.Variables v) {
            Settings cached = last;
            if (cached != null && cached.source == v) {
                return cached;
            }
            Settings parsed = new Settings(v, TimeUnit.MILLISECONDS.toNanos(v.getLong("connect_timeout_server_max")),
                    v.getInt("connect_timeout_server"), v.getInt("shun_on_failures"), v.getLong("connect_retries_delay"),
                    TimeUnit.SECONDS.toNanos(v.getLong("shun_recovery_time_sec")),
                    v.getLong("default_max_latency_ms") * 1000);
            last = parsed;
            return parsed;
        }
    }

    public void acquire(EventLoop loop, RuntimeConfig config, Request request, BackendListener listener,
                        Callback callback) {
        acquire(loop, config, request, listener, callback, null);
    }

    /**
     * As {@link #acquire(EventLoop, RuntimeConfig, Request, BackendListener, Callback)}, starting from the server
     * {@code picked} for this statement by {@link #pick(RuntimeConfig, int)} when not null, so that a statement
     * is weighed once whether it runs on a kept connection or not.
     */
    public void acquire(EventLoop loop, RuntimeConfig config, Request request, BackendListener listener,
                        Callback callback, ServerRuntime picked) {
        Settings settings = Settings.of(config.mysqlVariables());
        long now = System.nanoTime();
        // The common case under multiplexing: an idle connection of this loop, already in the right schema.
        ServerRuntime server = picked != null ? picked
                : pick(hostgroups.hostgroup(config.servers(), request.hostgroup()), settings, now);
        if (server != null && !server.hasWaiters(loop)) {
            BackendPool pool = pool(loop);
            PoolKey key = new PoolKey(server.key(), request.credentials().username(), request.formatCapabilities(),
                    request.collation());
            BackendConnection pooled = pool.pollInSchema(key, request.schema());
            if (pooled == null && pool.reclaimKept(server, key)) {
                pooled = pool.pollInSchema(key, request.schema());
            }
            if (pooled != null) {
                pooled.lend(listener);
                callback.acquired(pooled);
                return;
            }
        }
        new Attempt(loop, config, settings, request, listener, callback, now + settings.connectTimeoutMaxNanos(), now)
                .run();
    }

    /** The server of {@code hostgroup} the next statement goes to, chosen by weight among the eligible; or null. */
    public ServerRuntime pick(RuntimeConfig config, int hostgroup) {
        return pick(hostgroups.hostgroup(config.servers(), hostgroup), Settings.of(config.mysqlVariables()),
                System.nanoTime());
    }

    /**
     * Whether a session may run its next statement on {@code kept}, the connection it kept from its last one
     * with nothing of its state on it, rather than give it back and take one from the pool: only when that would
     * change nothing. The statement was weighed onto kept's server ({@code picked}), the connection is one the
     * pool would hand out for {@code request} (same pool key, open, in the schema, not older than
     * mysql-connection_max_age_ms, its server ONLINE), and no session waits for a connection to that server.
     */
    public boolean mayKeep(BackendConnection kept, ServerRuntime picked, Request request) {
        PoolKey key = kept.key();
        String schema = request.schema();
        return kept.server() == picked && !picked.hasWaiters() && picked.acceptsNewWork()
                && kept.channel().isActive()
                && key.formatCapabilities() == request.formatCapabilities() && key.collation() == request.collation()
                && key.username().equals(request.credentials().username())
                && (schema == null || schema.isEmpty() || schema.equals(kept.schema()))
                && !hostgroups.pools().settings().tooOld(kept.createdNanos(), System.nanoTime());
    }

    private final class Attempt implements Runnable, BackendPool.Waiting {
        private final EventLoop loop;
        private final RuntimeConfig config;
        private final Settings settings;
        private final Request request;
        private final BackendListener listener;
        private final Callback callback;
        private final long deadline;
        private final long started;
        /**
         * Identifies the current wait, so that a timer and a wake-up for the same wait run the attempt once.
         * Written on the loop; read by the thread that wakes waiters, to skip the ones no longer waiting.
         */
        private volatile int token;
        /** Whether this attempt already waited: it then takes a returned connection before newcomers do. */
        private boolean waited;
        /** When the current wait at max_connections began; 0 while not waiting there. */
        private long waitingSince;
        /** Whether the pool's periodic check of waiting attempts holds this one. */
        private boolean checked;

        Attempt(EventLoop loop, RuntimeConfig config, Settings settings, Request request, BackendListener listener,
                Callback callback, long deadline, long started) {
            this.loop = loop;
            this.config = config;
            this.settings = settings;
            this.request = request;
            this.listener = listener;
            this.callback = callback;
            this.deadline = deadline;
            this.started = started;
        }

        @Override
        public void run() {
            if (!callback.stillWaiting()) {
                token++; // a wake-up still queued for this attempt finds it gone
                return;
            }
            long now = System.nanoTime();
            ServerRuntime server = pick(hostgroups.hostgroup(config.servers(), request.hostgroup()), settings, now);
            if (server == null) {
                retryOrGiveUp(now, IDLE_RETRY_MILLIS);
                return;
            }
            PoolKey key = new PoolKey(server.key(), request.credentials().username(), request.formatCapabilities(),
                    request.collation());
            boolean mayTake = waited || !server.hasWaiters(loop);
            BackendConnection pooled = mayTake ? pool(loop).poll(key) : null;
            if (pooled == null && mayTake && pool(loop).reclaimKept(server, key)) {
                pooled = pool(loop).poll(key);
            }
            if (pooled != null) {
                pooled.lend(listener);
                alignSchema(pooled);
                return;
            }
            if (!server.mayOpen() || (!waited && server.hasWaiters(loop))
                    || !hostgroups.pools().fairToOpen(loop, server)) {
                // At max_connections (or behind sessions already waiting, or ahead of another loop whose sessions
                // wait): wait in line for a connection to come back or go away, and ask another loop for a slot if
                // it holds more than its share. In that order: the other loop may free the slot before this line
                // returns, and it wakes only a session already waiting here.
                int wait = ++token;
                server.awaitCapacity(loop, () -> {
                    if (wait != token || !callback.stillWaiting()) {
                        return false;
                    }
                    loop.execute(() -> resume(wait));
                    return true;
                }, waited);
                waited = true;
                hostgroups.pools().evictElsewhere(loop, server);
                // A connection kept here between statements goes to the first waiter of this loop; failing that,
                // one of another pool key is closed, so that its slot serves the first waiter.
                if (!pool(loop).reclaimKept(server, key) && !server.mayOpen()) {
                    pool(loop).reclaimKept(server, null);
                }
                // A wake-up resumes the wait; the pool's periodic check guards the deadline and a missed wake-up.
                waitingSince = now;
                if (!checked) {
                    checked = true;
                    pool(loop).await(this);
                }
                return;
            }
            int connectTimeout = settings.connectTimeout();
            server.opening.incrementAndGet();
            BackendConnection.open(loop, server, key, request.credentials(), request.schema(), connectTimeout)
                    .addListener(f -> {
                        server.opening.decrementAndGet();
                        if (f.isSuccess()) {
                            BackendConnection connection = (BackendConnection) f.getNow();
                            BackendPool pool = pool(loop);
                            pool.track(connection);
                            if (server.takenOffline()) {
                                // Taken offline (or removed) while it logged in: it must not serve anyone.
                                connection.close();
                                run();
                            } else if (!callback.stillWaiting()) {
                                pool.release(connection, true);
                            } else {
                                connection.lend(listener);
                                callback.acquired(connection);
                            }
                            return;
                        }
                        BackendException error = (BackendException) f.cause();
                        if (isNetworkError(error)) {
                            server.connectFailed(System.nanoTime(), settings.shunOnFailures());
                            retryOrGiveUp(System.nanoTime(), settings.retryDelayMillis());
                        } else {
                            server.connectErrors.increment();
                            callback.failed(new ErrPacket(error.code(), error.sqlState(), error.getMessage()));
                        }
                    });
        }

        private void alignSchema(BackendConnection connection) {
            String wanted = request.schema();
            if (wanted == null || wanted.isEmpty() || wanted.equals(connection.schema())) {
                callback.acquired(connection);
                return;
            }
            connection.runInternal(connection.initDbCommand(wanted), err -> {
                if (err == null) {
                    connection.schema(wanted);
                    callback.acquired(connection);
                } else {
                    pool(loop).release(connection, false);
                    callback.failed(err);
                }
            });
        }

        private void resume(int wait) {
            if (wait == token) {
                token++;
                waitingSince = 0;
                run();
            }
        }

        @Override
        public boolean recheck(long nowNanos) {
            if (waitingSince != 0 && !callback.stillWaiting()) {
                waitingSince = 0;
                token++; // a wake-up still queued for this attempt finds it gone
            } else if (waitingSince != 0 && nowNanos - deadline >= 0) {
                waitingSince = 0;
                retryOrGiveUp(nowNanos, 0);
            } else if (waitingSince != 0 && nowNanos - waitingSince >= WAKE_GUARD_NANOS) {
                resume(token);
            }
            checked = waitingSince != 0;
            return checked;
        }

        private void retryOrGiveUp(long now, long delayMillis) {
            if (now + TimeUnit.MILLISECONDS.toNanos(delayMillis) >= deadline) {
                token++;
                long waited = TimeUnit.NANOSECONDS.toMillis(now - started);
                callback.failed(new ErrPacket(ERR_MAX_CONNECT_TIMEOUT, "HY000",
                        "Max connect timeout reached while reaching hostgroup " + request.hostgroup()
                                + " after " + waited + "ms"));
                return;
            }
            int wait = token;
            loop.schedule(() -> resume(wait), Math.max(1, delayMillis), TimeUnit.MILLISECONDS);
        }
    }

    /** Weighted random choice among the eligible servers of a hostgroup (ProxySQL's get_random_MySrvC). */
    private static ServerRuntime pick(ServerRuntime[] servers, Settings settings, long now) {
        long totalWeight = 0;
        for (ServerRuntime server : servers) {
            server.maybeRecover(now, settings.recoveryNanos());
            if (eligible(server, settings.defaultMaxLatencyMicros())) {
                totalWeight += server.config().weight();
            }
        }
        if (totalWeight == 0) {
            return null;
        }
        long k = ThreadLocalRandom.current().nextLong(totalWeight) + 1;
        long sum = 0;
        for (ServerRuntime server : servers) {
            if (eligible(server, settings.defaultMaxLatencyMicros())) {
                sum += server.config().weight();
                if (sum >= k) {
                    return server;
                }
            }
        }
        return null;
    }

    /**
     * ONLINE, and not slower than its max_latency_ms (or mysql-default_max_latency_ms when that is 0) at the
     * monitor's last ping; a server never pinged counts as fast.
     */
    private static boolean eligible(ServerRuntime server, long defaultMaxLatencyMicros) {
        if (!server.acceptsConnections()) {
            return false;
        }
        long latency = server.pingLatencyMicros();
        long limit = server.config().maxLatencyMs() > 0 ? server.config().maxLatencyMs() * 1000L
                : defaultMaxLatencyMicros;
        return latency <= 0 || limit <= 0 || latency < limit;
    }

    /** Errors where another try (maybe on another server) can succeed, as opposed to a refused login. */
    private static boolean isNetworkError(BackendException error) {
        return error.code() == 2003 || error.code() == 2013 || error.code() == 2027 || error.code() == 1040
                || error.code() == 1129 || error.code() == 1130;
    }
}
