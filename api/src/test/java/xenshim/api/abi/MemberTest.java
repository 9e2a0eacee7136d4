package xenshim.api.abi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import xenshim.api.Abi;

class MemberTest {

    @Test
    void givesEachAbisOffsetFromTheLayouts() {
        Member gpfn = Member.of(l -> l.xen_add_to_physmap, "gpfn");
        assertThat(gpfn.offset(Abi.X86_64)).isEqualTo(AbiLayouts.offset(AbiLayouts.X86_64.xen_add_to_physmap, "gpfn"))
                .isEqualTo(16);
        assertThat(gpfn.offset(Abi.X86_32)).isEqualTo(AbiLayouts.offset(AbiLayouts.X86_32.xen_add_to_physmap, "gpfn"))
                .isEqualTo(12);
    }

    @Test
    void aMemberTheStructLacksFailsWhenDeclared() {
        assertThatThrownBy(() -> Member.of(l -> l.xen_hvm_param, "no_such_member"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
