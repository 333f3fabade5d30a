package io.proxyfleet.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class LibConfigTest {

    @Test
    void parsesScalarsGroupsAndLists() throws Exception {
        LibConfig.Group g = LibConfig.parse("""
                a = 1; b: "x" "y"; c = true, d = 0x10L
                e = -2.5
                f = { g = "h\\"i\\n" }
                l = ( { k = 1 }, { k = 2 } )
                arr = [ 1, 2 ]
                """);
        assertThat(g.settings().get("a")).isEqualTo(new LibConfig.Int(1));
        assertThat(g.settings().get("b")).isEqualTo(new LibConfig.Str("xy"));
        assertThat(g.settings().get("c")).isEqualTo(new LibConfig.Bool(true));
        assertThat(g.settings().get("d")).isEqualTo(new LibConfig.Int(16));
        assertThat(g.settings().get("e")).isEqualTo(new LibConfig.Flt(-2.5));
        assertThat(((LibConfig.Group) g.settings().get("f")).settings().get("g"))
                .isEqualTo(new LibConfig.Str("h\"i\n"));
        assertThat(((LibConfig.Items) g.settings().get("l")).items()).hasSize(2);
        assertThat(((LibConfig.Items) g.settings().get("arr")).items())
                .isEqualTo(List.of(new LibConfig.Int(1), new LibConfig.Int(2)));
    }

    @Test
    void errorsNameTheLine() {
        assertThatThrownBy(() -> LibConfig.parse("a = 1\n\nb = \"open\n")).isInstanceOf(LibConfig.SyntaxException.class)
                .hasMessageStartingWith("line 3:");
        assertThatThrownBy(() -> LibConfig.parse("a = 1\nb 2\n")).hasMessageStartingWith("line 2:");
        assertThatThrownBy(() -> LibConfig.parse("a = 1\na = 2\n")).hasMessageContaining("duplicate");
        assertThatThrownBy(() -> LibConfig.parse("/* never closed\n\n")).hasMessageStartingWith("line 1:");
    }
}
