package io.proxyfleet.vip;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;

/**
 * {@code GET /role}: whether this node owns the virtual IP and whether its configuration is in sync with its
 * peers. 200 for the owner, 503 for every other node, so that a load balancer can send writers to the owner
 * alone. Runs on the REST server's worker pool.
 */
public final class RoleHandler implements HttpHandler {
    private final VipManager vip;
    private final NodeHealth health;

    public RoleHandler(VipManager vip, NodeHealth health) {
        this.vip = vip;
        this.health = health;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        VipStatus s = vip.status();
        boolean inSync = health.check().inSync();
        String body = "{\"vip\":\"" + HealthHandler.json(s.address()) + "\",\"owner\":" + s.owner()
                + ",\"state\":\"" + s.state() + "\",\"term\":" + s.term() + ",\"raft_id\":\""
                + HealthHandler.json(s.raftId()) + "\",\"leader\":\"" + HealthHandler.json(s.leader())
                + "\",\"in_sync\":" + inSync + ",\"reason\":\"" + HealthHandler.json(s.reason()) + "\"}\n";
        HealthHandler.send(exchange, s.owner() ? HealthHandler.OK : HealthHandler.UNAVAILABLE, body);
    }
}
