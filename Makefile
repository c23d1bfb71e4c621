# qbackup: GNU make build. See README.md and CODING.md.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(PREFIX)/etc
DESTDIR ?=
BUILD   ?= build
VERSION := 0.1.0

CC      ?= cc
PKGS    := libpq zlib libcurl libarchive libcjson expat libmicrohttpd libdeflate libcrypto
TESTPKGS := check

WARN    := -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wcast-qual -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla -Wwrite-strings -Wundef -Wnull-dereference -Wdouble-promotion \
           -Wimplicit-fallthrough -Wno-format-truncation
ifeq ($(WERROR),0)
else
WARN    += -Werror
endif
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -DQB_VERSION='"$(VERSION)"' $(WARN) -Iinclude -Isrc/lib -Isrc/cli \
           $(shell pkg-config --cflags $(PKGS)) -pthread
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -pthread -lm

ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  := $(sort $(wildcard src/lib/*/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libqbackup.a
BINS     := $(BUILD)/qbackup $(BUILD)/qrestore

TEST_SRC := $(sort $(wildcard tests/unit/check_*.c tests/integration/check_*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tests/check_all.o $(BUILD)/tests/testutil.o
TEST_BIN := $(BUILD)/check_all

MAN1 := man/qbackup.1 man/qrestore.1
MAN5 := man/qbackup.conf.5

.PHONY: all check unit install uninstall clean lint sandbox bench fuzz fuzz-targets
all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

QBACKUP_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard src/qbackup/*.c)))
QRESTORE_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard src/qrestore/*.c)))

$(BUILD)/qbackup: $(QBACKUP_OBJ) $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/qrestore: $(QRESTORE_OBJ) $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The suite list is generated from the test sources: every `Suite *suite_NAME(void)`
# in tests/ is registered in the runner without editing a shared file.
$(BUILD)/tests/check_suites.h: $(TEST_SRC)
	@mkdir -p $(dir $@)
	@{ for n in $$(sed -n 's/^Suite \*\(suite_[a-z0-9_]*\)(void).*/\1/p' $(TEST_SRC)); do \
	     echo "X($$n)"; done; } > $@.tmp && mv $@.tmp $@

$(BUILD)/tests/check_all.o: tests/check_all.c $(BUILD)/tests/check_suites.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(BUILD)/tests $(shell pkg-config --cflags check) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -Itests $(shell pkg-config --cflags check) -MMD -MP -c -o $@ $<

$(TEST_BIN): $(TEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

# `make check` starts its own PostgreSQL, S3 and HTTP-recorder servers on free
# loopback ports (tests/harness/run.sh) and stops them when done.
check: $(BINS) $(TEST_BIN)
	QB_BUILD=$(BUILD) tests/harness/run.sh $(TEST_BIN)

# Unit suites only: no servers needed.
unit: $(BINS) $(TEST_BIN)
	QB_BUILD=$(BUILD) QB_SRCDIR=$(CURDIR) QB_TEST_UNIT_ONLY=1 $(TEST_BIN)

lint:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|tmpnam|mktemp)\s*\(' \
	    $(LIB_SRC) $(CLI_SRC) src/qbackup/*.c src/qrestore/*.c || { echo "banned function (see CODING.md)"; exit 1; }

sandbox: $(BINS)
	scripts/sandbox.sh

bench: $(BINS)
	bench/db.sh

# Fuzz targets (clang's libFuzzer, not part of check): `make fuzz` builds
# every fuzz/fuzz_NAME.c against the library, all under ASan/UBSan, into
# build-fuzz/fuzz/; `fuzz/run.sh [SECONDS]` runs each on its seed corpus.
FUZZ_CC := clang -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
           -fno-sanitize-recover=undefined -Wno-unknown-warning-option
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))

fuzz:
	$(MAKE) BUILD=build-fuzz CC="$(FUZZ_CC)" fuzz-targets

fuzz-targets: $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/%: fuzz/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(LIB) $(LDLIBS)

install: $(BINS)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/qbackup
	install -m 0755 $(BINS) $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0600 etc/qbackup.conf.sample $(DESTDIR)$(SYSCONFDIR)/qbackup/qbackup.conf.sample

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/qbackup $(DESTDIR)$(BINDIR)/qrestore
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5)))
	rm -f $(DESTDIR)$(SYSCONFDIR)/qbackup/qbackup.conf.sample

clean:
	rm -rf $(BUILD) build-*

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
