package io.proxyfleet.routing;

import java.util.List;

/** The result of parsing a SET statement with {@link SetStatementParser}. Immutable. */
public sealed interface SetStatement {

    /** Every assignment was understood, in statement order. */
    record Assignments(List<SessionVariable> variables) implements SetStatement {
        public Assignments {
            variables = List.copyOf(variables);
        }

        /** True when every assignment is a tracked session variable: the proxy can handle it by itself. */
        public boolean allTracked() {
            for (SessionVariable v : variables) {
                if (!v.tracked()) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * A SET the proxy cannot track (GLOBAL scope, expressions, syntax it does not know). ProxySQL runs it on the
     * backend and, with {@code mysql-set_query_lock_on_hostgroup=1}, locks the session to that hostgroup.
     */
    record Unparsable(String reason) implements SetStatement {
    }

    /** The query is not a SET statement. */
    record NotSet() implements SetStatement {
    }
}
