package dev.layerprobe.host.input;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InputShapesTest {

    @Test
    void parsesEveryDimensionOfEachInput() throws Exception {
        Map<String, int[]> shapes = InputShapes.parse(List.of("x=1x3x48x192", "ids=1,7"));
        assertArrayEquals(new int[] {1, 3, 48, 192}, shapes.get("x"));
        assertArrayEquals(new int[] {1, 7}, shapes.get("ids"));
        assertArrayEquals(new int[] {480, 640}, InputShapes.parseSize("640X480"));
    }

    @Test
    void anEmptyDimensionIsAnErrorWhereverItStands() {
        // A stray separator at either end names no dimension; it is not dropped silently.
        for (String spec : List.of("x=1x3x48x", "x=x1x3x48", "x=1xx3x48")) {
            InputException e = assertThrows(InputException.class, () -> InputShapes.parse(List.of(spec)));
            assertTrue(e.getMessage().contains("'' is not a positive dimension"), e.getMessage());
        }
        assertThrows(InputException.class, () -> InputShapes.parseSize("640x480x"));
    }
}
