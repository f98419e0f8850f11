# Finds the Xen libraries and Check through pkg-config.  When one is missing
# the build stops with a message naming the Debian package that provides it
# (or run `make deps` as root to install everything).

PKG_CONFIG ?= pkg-config

# pkg-config module -> Debian package
XNV_PKG_xencontrol := libxen-dev
XNV_PKG_xenstore   := libxen-dev
XNV_PKG_xengnttab  := libxen-dev
XNV_PKG_xenevtchn  := libxen-dev
XNV_PKG_check      := check

XEN_MODULES := xencontrol xenstore xengnttab xenevtchn

ifeq ($(shell command -v $(PKG_CONFIG) 2>/dev/null),)
  XNV_MISSING := pkg-config
  XNV_MISSING_PKGS := pkg-config
else
  XNV_MISSING := $(strip $(foreach m,$(XEN_MODULES) check,$(if $(shell $(PKG_CONFIG) --exists $(m) && echo y),,$(m))))
  XNV_MISSING_PKGS := $(sort $(foreach m,$(XNV_MISSING),$(XNV_PKG_$(m))))
  XEN_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(XEN_MODULES) 2>/dev/null)
  XEN_LIBS    := $(shell $(PKG_CONFIG) --libs $(XEN_MODULES) 2>/dev/null)
  CHECK_CFLAGS := $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
  CHECK_LIBS   := $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
endif

# Goals that must work before the dependencies are installed.
XNV_NODEP_GOALS := deps check demo clean distclean help uninstall
ifneq ($(XNV_MISSING),)
  ifneq ($(MAKECMDGOALS),)
    XNV_NEEDS_DEPS := $(filter-out $(XNV_NODEP_GOALS),$(MAKECMDGOALS))
  else
    XNV_NEEDS_DEPS := all
  endif
  ifneq ($(XNV_NEEDS_DEPS),)
    $(error missing $(XNV_MISSING) (pkg-config): install the Debian package(s) $(XNV_MISSING_PKGS), e.g. `apt-get install $(XNV_MISSING_PKGS)`, or run `make deps` as root)
  endif
endif
