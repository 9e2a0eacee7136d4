package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import xenshim.api.xen.XenHvm;

class HvmParamsTest {

    private final HvmParams params = new HvmParams();

    @Test
    void setOnceStoresIntoAnUnsetParameter() {
        assertThat(params.setOnce(XenHvm.HVM_PARAM_VIRIDIAN, 5)).isTrue();
        assertThat(params.get(XenHvm.HVM_PARAM_VIRIDIAN)).isEqualTo(5);
    }

    @Test
    void setOnceAcceptsTheValueItAlreadyHolds() {
        params.set(XenHvm.HVM_PARAM_VIRIDIAN, 5);
        assertThat(params.setOnce(XenHvm.HVM_PARAM_VIRIDIAN, 5)).isTrue();
        assertThat(params.get(XenHvm.HVM_PARAM_VIRIDIAN)).isEqualTo(5);
    }

    @Test
    void setOnceRefusesAnotherValueAndLeavesTheOldOne() {
        params.set(XenHvm.HVM_PARAM_VIRIDIAN, 5);
        assertThat(params.setOnce(XenHvm.HVM_PARAM_VIRIDIAN, 7)).isFalse();
        assertThat(params.setOnce(XenHvm.HVM_PARAM_VIRIDIAN, 0)).isFalse();
        assertThat(params.get(XenHvm.HVM_PARAM_VIRIDIAN)).isEqualTo(5);
    }

    @Test
    void setOnceOfZeroOnAnUnsetParameterSucceeds() {
        assertThat(params.setOnce(XenHvm.HVM_PARAM_VIRIDIAN, 0)).isTrue();
        assertThat(params.setOnce(XenHvm.HVM_PARAM_VIRIDIAN, 3)).isTrue();
        assertThat(params.get(XenHvm.HVM_PARAM_VIRIDIAN)).isEqualTo(3);
    }

    @Test
    void anIndexOutsideTheParametersThrows() {
        assertThatThrownBy(() -> params.setOnce(XenHvm.HVM_NR_PARAMS, 1))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }
}
