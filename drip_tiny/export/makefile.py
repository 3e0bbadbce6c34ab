"""The project's Makefile: `make -C DIR` builds the image, nothing else is needed.

Cross boards (toolchain "arm-none-eabi"): the board's CPU flags, -O2 (or -Os: OPT), one section per
function and object so the linker drops what is unused (-Wl,--gc-sections), newlib-nano
with the nosys stubs, the board's startup instead of crt0 (-nostartfiles, as
emulate/insn_count.build_elf), the board's linker script with its stack size
(--defsym=DT_STACK_BYTES), a map file, then an Intel HEX and, for boards with a UF2
bootloader, a UF2 (tools/uf2.py, Python standard library only).
Host board: `cc` builds build/firmware, linked with -lm.
Warnings are errors everywhere (-std=c99 -Wall -Wextra -Werror).
"""

from __future__ import annotations

from drip_tiny.boards import Board

ELF = "build/firmware.elf"
HOST_EXE = "build/firmware"
MAP = "build/firmware.map"
HEX = "build/firmware.hex"
UF2 = "build/firmware.uf2"
UF2_TOOL = "tools/uf2.py"
CROSS_PREFIX = "arm-none-eabi-"
COMMON_CFLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-ffunction-sections",
                 "-fdata-sections", "-MMD", "-MP")
# Measured on mps2-an386 with the digits model: -O2 runs inference in 2,332,098
# instructions and -Os in 4,769,033 (2.04x), for 1.5 KB more code (19,772 vs 18,248 B).
OPTIMIZE = {"speed": "-O2", "size": "-Os"}
CROSS_LDFLAGS = ("--specs=nano.specs", "--specs=nosys.specs", "-nostartfiles",
                 "-Wl,--gc-sections")
HOST_LDFLAGS = ("-Wl,--gc-sections",)


def images(board: Board) -> dict[str, str]:
    """The files `make` writes: {"elf": ..., "map": ..., "hex": ..., "uf2": ...}."""
    if board.toolchain == "host":
        return {"elf": HOST_EXE, "map": MAP}
    out = {"elf": ELF, "map": MAP, "hex": HEX}
    if board.uf2_family is not None:
        out["uf2"] = UF2
    return out


def _words(items: list[str]) -> str:
    return " \\\n\t".join(items) if items else ""


def render_makefile(board: Board, sources: list[str], include_dirs: list[str],
                    linker_script: str | None, optimize: str = "speed") -> str:
    host = board.toolchain == "host"
    outputs = images(board)
    lines = [
        f"# Firmware for {board.name}, written by drip-tiny export. Build: make -C <this folder>",
        "# (make clean removes build/). Override a tool from the command line, e.g.",
        "# make CC=clang (host) or make CROSS=/opt/gcc-arm/bin/arm-none-eabi- (cross);",
        "# make OPT=-Os for the smallest image (about 2x slower inference).",
        "",
    ]
    if host:
        lines += ["CC = cc"]
    else:
        lines += [f"CROSS = {CROSS_PREFIX}", "CC = $(CROSS)gcc", "OBJCOPY = $(CROSS)objcopy",
                  "SIZE = $(CROSS)size", "PYTHON = python3"]
    lines += [
        "",
        f"ARCH = {' '.join(board.cflags)}",
        f"DEFINES = {' '.join('-D' + d for d in board.app_defines)}",
        f"INCLUDES = {' '.join('-I' + d for d in include_dirs)}",
        f"OPT = {OPTIMIZE[optimize]}",
        f"CFLAGS = $(ARCH) $(OPT) {' '.join(COMMON_CFLAGS)} $(DEFINES) $(INCLUDES)",
    ]
    if host:
        lines += [f"LDFLAGS = $(ARCH) {' '.join(HOST_LDFLAGS)} -Wl,-Map={MAP}",
                  "LDLIBS = -lm"]
    else:
        lines += [f"LDFLAGS = $(ARCH) {' '.join(CROSS_LDFLAGS)} "
                  f"-Wl,--defsym=DT_STACK_BYTES={board.stack_bytes} -T {linker_script} "
                  f"-Wl,-Map={MAP}",
                  "LDLIBS = -lm"]
    lines += [
        "",
        f"SOURCES = {_words(sources)}",
        "OBJECTS = $(SOURCES:%.c=build/obj/%.o)",
        "",
        ".PHONY: all clean",
        f"all: {' '.join(v for k, v in outputs.items() if k != 'map')}",
        "",
        f"{outputs['elf']}: $(OBJECTS) {linker_script or ''}".rstrip(),
        "\t$(CC) $(LDFLAGS) $(OBJECTS) $(LDLIBS) -o $@",
    ]
    if not host:
        lines += ["\t$(SIZE) $@", "", f"{HEX}: {ELF}", "\t$(OBJCOPY) -O ihex $< $@"]
        if "uf2" in outputs:
            lines += ["", f"{UF2}: {HEX} {UF2_TOOL}",
                      f"\t$(PYTHON) {UF2_TOOL} --family {board.uf2_family:#010x} $< $@"]
    lines += [
        "",
        "build/obj/%.o: %.c",
        "\t@mkdir -p $(dir $@)",
        "\t$(CC) $(CFLAGS) -c $< -o $@",
        "",
        "clean:",
        "\trm -rf build",
        "",
        "-include $(OBJECTS:.o=.d)",
        "",
    ]
    return "\n".join(lines)
