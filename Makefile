# fogbank: one non-recursive Makefile. `make` builds $(O)/fogbank and $(O)/fogbank-init (the
# instance init, which the server finds next to itself); `make run` installs what is
# missing, builds and serves on 127.0.0.1:4566; `make test` builds and runs every test.
# SANITIZE=1 builds with ASan + UBSan into build/san.

ifeq ($(SANITIZE),1)
O ?= build/san
else
O ?= build
endif

CC ?= cc
PKGS := libmicrohttpd libuv libcjson sqlite3 libcrypto ldns
# Loaded with dlopen on first use (emulator/lazylib.h), so an idle server does not map them:
# compiled against their headers, never linked.
LAZY_PKGS := libxml-2.0 libarchive
UNAME_S := $(shell uname -s)
# `make test` builds with this many jobs.
NPROC := $(shell nproc 2>/dev/null || sysctl -n hw.ncpu 2>/dev/null || echo 2)

WARN := -std=c17 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wformat=2 -Wvla -Werror
CFLAGS ?= -O2 -g
CPPFLAGS += -I. -MMD -MP
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# http-parser (the load balancer's proxy and health checks) has no pkg-config file.
LDLIBS += $(PKG_LIBS) -lhttp_parser -lm -ldl
ifeq ($(SANITIZE),1)
CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(UNAME_S),Linux)
LDLIBS += -lpthread
endif

# The server's sources, one per line, sorted. main.c is kept apart so tests can link the rest.
SRCS += emulator/aws_err.c
SRCS += emulator/buf.c
SRCS += emulator/clock.c
SRCS += emulator/clock_real.c
SRCS += emulator/common.c
SRCS += emulator/control.c
SRCS += emulator/ctl.c
SRCS += emulator/events.c
SRCS += emulator/http.c
SRCS += emulator/ids.c
SRCS += emulator/instances/init.c
SRCS += emulator/instances/sup.c
SRCS += emulator/lazylib.c
SRCS += emulator/log.c
SRCS += emulator/model.c
SRCS += emulator/models/autoscaling.c
SRCS += emulator/models/cloudformation.c
SRCS += emulator/models/codedeploy.c
SRCS += emulator/models/ec2.c
SRCS += emulator/models/elb.c
SRCS += emulator/models/elbv2.c
SRCS += emulator/models/index.c
SRCS += emulator/models/route53.c
SRCS += emulator/models/s3.c
SRCS += emulator/models/sts.c
SRCS += emulator/protocol/ec2.c
SRCS += emulator/protocol/json.c
SRCS += emulator/protocol/query.c
SRCS += emulator/protocol/restxml.c
SRCS += emulator/protocol/shared.c
SRCS += emulator/protocol/validate.c
SRCS += emulator/protocol/xmllib.c
SRCS += emulator/router.c
SRCS += emulator/service.c
SRCS += emulator/wire.c
SRCS += services/autoscaling/activities.c
SRCS += services/autoscaling/autoscaling.c
SRCS += services/autoscaling/cron.c
SRCS += services/autoscaling/groups.c
SRCS += services/autoscaling/hooks.c
SRCS += services/autoscaling/launch_configs.c
SRCS += services/autoscaling/launch_loop.c
SRCS += services/autoscaling/lb.c
SRCS += services/autoscaling/page.c
SRCS += services/autoscaling/policies.c
SRCS += services/autoscaling/reconcile.c
SRCS += services/autoscaling/scheduled.c
SRCS += services/autoscaling/tags.c
SRCS += services/ec2/api.c
SRCS += services/ec2/archivelib.c
SRCS += services/ec2/common.c
SRCS += services/ec2/ec2.c
SRCS += services/ec2/images.c
SRCS += services/ec2/imds.c
SRCS += services/ec2/instances.c
SRCS += services/ec2/layers.c
SRCS += services/ec2/network.c
SRCS += services/ec2/tags.c
SRCS += services/ec2/templates.c
SRCS += services/elb/api.c
SRCS += services/elb/elb.c
SRCS += services/elb/instances.c
SRCS += services/elb/lb.c
SRCS += services/elb/probe.c
SRCS += services/elb/proxy.c
SRCS += services/route53/dns.c
SRCS += services/route53/health.c
SRCS += services/route53/records.c
SRCS += services/route53/route53.c
SRCS += services/route53/zones.c
SRCS += services/services.c
SRCS += services/sts/sts.c
SRCS += state/autoscaling.c
SRCS += state/autoscaling_policies.c
SRCS += state/db.c
SRCS += state/ec2_images.c
SRCS += state/ec2_instances.c
SRCS += state/ec2_network.c
SRCS += state/elb.c
SRCS += state/migrations.c
SRCS += state/route53.c
SRCS += state/schema_autoscaling.c
SRCS += state/schema_autoscaling_policies.c
SRCS += state/schema_ec2_images.c
SRCS += state/schema_ec2_instances.c
SRCS += state/schema_ec2_network.c
SRCS += state/schema_elb.c
SRCS += state/schema_route53.c

MAIN := emulator/main.c
OBJS := $(SRCS:%.c=$(O)/%.o)
LIB := $(O)/libfogbank.a
BIN := $(O)/fogbank

# fogbank-init, the executable every instance boots as: init.c and what it needs, linked with
# libc alone (plus the sanitizers' runtimes under SANITIZE=1) so exec'ing it stays cheap.
INIT_MAIN := emulator/instances/init_main.c
INIT_SRCS := emulator/buf.c emulator/clock_real.c emulator/common.c emulator/instances/init.c
INIT_OBJS := $(INIT_MAIN:%.c=$(O)/%.o) $(INIT_SRCS:%.c=$(O)/%.o)
INIT_BIN := $(O)/fogbank-init

TEST_SRCS := $(sort $(wildcard tests/unit/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/unit/%.c=$(O)/tests/%)
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

.PHONY: all run test check lint format format-check unit clean deps
all: $(BIN) $(INIT_BIN)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(WARN) $(CFLAGS) -c -o $@ $<

$(LIB): $(OBJS)
	@rm -f $@
	$(AR) rcs $@ $(OBJS)

$(BIN): $(O)/$(MAIN:.c=.o) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Where pkg-config says the lazily loaded libraries live, for when the loader's default path
# misses them (a Homebrew keg).
$(O)/emulator/protocol/xmllib.o: CPPFLAGS += \
	-DXMLLIB_DIR='"$(shell pkg-config --variable=libdir libxml-2.0 2>/dev/null)"'
$(O)/services/ec2/archivelib.o: CPPFLAGS += \
	-DARCHIVELIB_DIR='"$(shell pkg-config --variable=libdir libarchive 2>/dev/null)"'

$(INIT_BIN): $(INIT_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^

# test_sup boots instances through $(INIT_BIN) too.
$(O)/tests/%: tests/unit/%.c $(LIB) | $(INIT_BIN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CMOCKA_CFLAGS) $(WARN) -Wno-missing-prototypes $(CFLAGS) \
		$(LDFLAGS) -o $@ $< $(LIB) $(CMOCKA_LIBS) $(TEST_LDLIBS) $(LDLIBS)

# test_ec2_images writes its tarballs with libarchive itself.
$(O)/tests/test_ec2_images: TEST_LDLIBS += $(shell pkg-config --libs libarchive 2>/dev/null)

deps:
	@scripts/install-deps

run: deps
	@$(MAKE) --no-print-directory all
	$(BIN) serve

unit: $(TEST_BINS)

test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all unit
	@FOGBANK_BIN=$(BIN) scripts/run-tests $(TEST_BINS)

check: test lint format-check

lint:
	@scripts/lint

format:
	clang-format -i $(SRCS) $(MAIN) $(INIT_MAIN) $(wildcard emulator/*.h emulator/protocol/*.h services/*/*.h state/*.h) $(TEST_SRCS)

format-check:
	@clang-format --dry-run --Werror $(filter-out emulator/models/%,$(SRCS)) $(MAIN) $(INIT_MAIN) \
		$(TEST_SRCS)

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(O)/$(MAIN:.c=.d) $(O)/$(INIT_MAIN:.c=.d) $(TEST_BINS:=.d)
