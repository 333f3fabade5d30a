#!/usr/bin/env bash
# A throwaway MariaDB and a 3-node ProxyFleet cluster on 127.0.0.1, configured and ready to play with:
#   bench/cluster-demo.sh          # prints how to connect to each node; Ctrl-C stops everything and cleans up
# The MariaDB server and the application user are added on node1 only; the cluster carries them to node2 and
# node3. Each node also serves its web dashboard (HTTPS, user stats / password stats) and its Prometheus metrics.
# Needs mariadb-server, mariadb-client and python3; builds the jar if it is missing or stale.
set -euo pipefail
# shellcheck source=cluster-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cluster-lib.sh"

readonly NODES=3
readonly SYNC_TIMEOUT_S=30

cl_start_mariadb
cl_start_cluster "$NODES"

cl_log "node1: adding MariaDB to mysql_servers and '$CL_APP_USER' to mysql_users"
cl_admin 1 "INSERT INTO mysql_servers (hostgroup_id, hostname, port, comment)
                VALUES (0, '$CL_HOST', $MARIADB_PORT, 'demo MariaDB');
            INSERT INTO mysql_users (username, password, default_hostgroup, default_schema)
                VALUES ('$CL_APP_USER', '$CL_APP_PASSWORD', 0, '$CL_APP_DB');
            LOAD MYSQL SERVERS TO RUNTIME; SAVE MYSQL SERVERS TO DISK;
            LOAD MYSQL USERS TO RUNTIME; SAVE MYSQL USERS TO DISK;"

# Ports first on every node, then the switches: admin-web_enabled and admin-restapi_enabled travel through the
# cluster, the ports do not, so a node that receives a switch already has its own port.
declare -a WEB_PORTS=() RESTAPI_PORTS=()
for ((i = 1; i <= NODES; i++)); do
    WEB_PORTS[i]="$(cl_free_port)"
    RESTAPI_PORTS[i]="$(cl_free_port)"
    cl_admin "$i" "UPDATE global_variables SET variable_value='${WEB_PORTS[i]}' WHERE variable_name='admin-web_port';
                   UPDATE global_variables SET variable_value='${RESTAPI_PORTS[i]}'
                       WHERE variable_name='admin-restapi_port';
                   LOAD ADMIN VARIABLES TO RUNTIME; SAVE ADMIN VARIABLES TO DISK;"
done
for ((i = 1; i <= NODES; i++)); do
    cl_admin "$i" "UPDATE global_variables SET variable_value='true'
                       WHERE variable_name IN ('admin-web_enabled', 'admin-restapi_enabled');
                   LOAD ADMIN VARIABLES TO RUNTIME; SAVE ADMIN VARIABLES TO DISK;"
done

started_ms="$(cl_now_ms)"
for ((i = 1; i <= NODES; i++)); do
    deadline=$((SECONDS + SYNC_TIMEOUT_S))
    until mysql --no-defaults --protocol=TCP -h"$CL_HOST" -P"${CL_TRAFFIC_PORTS[i]}" -u"$CL_APP_USER" \
            -p"$CL_APP_PASSWORD" -N -B -e "SELECT 1" >/dev/null 2>&1; do
        ((SECONDS < deadline)) || cl_die "node$i does not serve '$CL_APP_USER' after ${SYNC_TIMEOUT_S}s" \
            "(log: $(cl_node_dir "$i")/proxysql.log)"
        sleep 0.05
    done
    cl_log "node$i serves '$CL_APP_USER' $(($(cl_now_ms) - started_ms)) ms after the load on node1"
done

echo
echo "ProxyFleet cluster demo: $NODES nodes on $CL_HOST and one MariaDB behind them (files in $CL_TMP)"
echo
echo "  MariaDB      mysql --no-defaults -h$CL_HOST -P$MARIADB_PORT -u$CL_APP_USER -p$CL_APP_PASSWORD $CL_APP_DB"
for ((i = 1; i <= NODES; i++)); do
    echo
    echo "  node$i (pid ${CL_NODE_PIDS[i]}, log $(cl_node_dir "$i")/proxysql.log)"
    echo "    admin      mysql --no-defaults -h$CL_HOST -P${CL_ADMIN_PORTS[i]} -u$CL_ADMIN_USER" \
         "-p$CL_ADMIN_PASSWORD --prompt='node$i admin> '"
    echo "    traffic    mysql --no-defaults -h$CL_HOST -P${CL_TRAFFIC_PORTS[i]} -u$CL_APP_USER" \
         "-p$CL_APP_PASSWORD $CL_APP_DB"
    echo "    dashboard  https://$CL_HOST:${WEB_PORTS[i]}/   (user stats, password stats;" \
         "certificate signed by $(cl_node_dir "$i")/proxysql-ca.pem)"
    echo "    metrics    http://$CL_HOST:${RESTAPI_PORTS[i]}/metrics"
done
echo
echo "Try it: on one node's admin run"
echo "  INSERT INTO mysql_query_rules (rule_id, active, match_digest, destination_hostgroup, apply)"
echo "      VALUES (1, 1, '^SELECT', 0, 1); LOAD MYSQL QUERY RULES TO RUNTIME;"
echo "then on another node's admin: SELECT * FROM runtime_mysql_query_rules;"
echo "                              SELECT * FROM stats_proxysql_servers_checksums;"
echo
echo "Press Ctrl-C to stop everything."
while true; do
    for ((i = 1; i <= NODES; i++)); do
        kill -0 "${CL_NODE_PIDS[i]}" 2>/dev/null || cl_die "node$i (pid ${CL_NODE_PIDS[i]}) has exited" \
            "(log: $(cl_node_dir "$i")/proxysql.log)"
    done
    sleep 5
done
