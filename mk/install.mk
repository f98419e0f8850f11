# Installation: included at the end of the top-level Makefile, so that $(B),
# $(LIBXNV), $(TOOL_NAMES) and $(XNV_VERSION) are known.
#
#   make install   [PREFIX=/usr/local] [DESTDIR=] [SYSTEMDUNITDIR=...] ...
#   make uninstall (same variables)
#
# Programs, library, headers, pkg-config file and manual pages go under
# PREFIX; the configuration (/etc/xnv), the modprobe configuration and, by
# default, nothing else go under /etc whatever PREFIX is.  DESTDIR is
# prepended to every path (for packaging); nothing is run on the target
# system (no systemctl, no depmod): the end of `make install` says what to
# run.  /etc/xnv/netbackd.conf is created only when absent and never
# overwritten; the example beside it is.

PREFIX         ?= /usr/local
BINDIR         ?= $(PREFIX)/bin
SBINDIR        ?= $(PREFIX)/sbin
LIBDIR         ?= $(PREFIX)/lib
INCLUDEDIR     ?= $(PREFIX)/include
PKGCONFIGDIR   ?= $(LIBDIR)/pkgconfig
MANDIR         ?= $(PREFIX)/share/man
# systemd reads units from /usr/local/lib/systemd/system and /usr/lib/systemd/system.
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR     ?= /etc
MODPROBEDIR    ?= $(SYSCONFDIR)/modprobe.d
XNVCONFDIR     ?= $(SYSCONFDIR)/xnv

INSTALL ?= install

# Programs: administration tools in sbin, the probe (useful unprivileged
# with selftest-sim) in bin.  xnv-netfront only when it is built here.
XNV_SBIN_PROGS := $(filter xnv-netbackd xnvctl xnv-netfront,$(TOOL_NAMES))
XNV_BIN_PROGS  := $(filter xnv-probe,$(TOOL_NAMES))
# Headers, all into $(INCLUDEDIR)/xnv: the core's (libxnv/include/xnv) and
# the engines' and the agent's APIs (include/xnv).  The simulator's headers
# stay with its archive (not installed).
XNV_HEADER_SRCS := $(filter-out %/sim.h %/frame.h,$(wildcard libxnv/include/xnv/*.h include/xnv/*.h))
XNV_HEADERS     := $(notdir $(XNV_HEADER_SRCS))
XNV_MAN8       := xnv-netbackd.8 xnvctl.8 $(if $(filter xnv-netfront,$(TOOL_NAMES)),xnv-netfront.8)
XNV_MAN5       := xnv-netbackd.conf.5
XNV_UNITS      := xnv-netbackd.service $(if $(filter xnv-netfront,$(TOOL_NAMES)),xnv-netfront.service)

.PHONY: install uninstall

install: $(LIBXNV) $(XNV_SBIN_PROGS:%=$(B)/bin/%) $(XNV_BIN_PROGS:%=$(B)/bin/%)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/xnv $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(MODPROBEDIR) \
	  $(DESTDIR)$(XNVCONFDIR)
	$(INSTALL) -m 0755 $(XNV_SBIN_PROGS:%=$(B)/bin/%) $(DESTDIR)$(SBINDIR)/
	$(if $(XNV_BIN_PROGS),$(INSTALL) -m 0755 $(XNV_BIN_PROGS:%=$(B)/bin/%) $(DESTDIR)$(BINDIR)/)
	$(INSTALL) -m 0644 $(LIBXNV) $(DESTDIR)$(LIBDIR)/libxnv.a
	$(INSTALL) -m 0644 $(XNV_HEADER_SRCS) $(DESTDIR)$(INCLUDEDIR)/xnv/
	printf '%s\n' \
	  'prefix=$(PREFIX)' \
	  'libdir=$(LIBDIR)' \
	  'includedir=$(INCLUDEDIR)' \
	  '' \
	  'Name: xnv' \
	  'Description: userspace network virtualization for Xen: netif backend and frontend engines' \
	  'Version: $(XNV_VERSION)' \
	  'Requires.private: xencontrol xenstore xengnttab xenevtchn' \
	  'Libs: -L$${libdir} -lxnv' \
	  'Libs.private: -lpthread' \
	  'Cflags: -I$${includedir}' > $(DESTDIR)$(PKGCONFIGDIR)/xnv.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/xnv.pc
	$(INSTALL) -m 0644 $(XNV_MAN8:%=man/%) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 $(XNV_MAN5:%=man/%) $(DESTDIR)$(MANDIR)/man5/
	for u in $(XNV_UNITS); do \
	  sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/etc/xnv/|$(XNVCONFDIR)/|g' \
	      -e 's|/etc/default/|$(SYSCONFDIR)/default/|g' etc/systemd/$$u \
	    > $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
	  chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp && \
	  mv -f $(DESTDIR)$(SYSTEMDUNITDIR)/$$u.tmp $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done
	$(INSTALL) -m 0644 etc/modprobe.d/xnv.conf $(DESTDIR)$(MODPROBEDIR)/xnv.conf
	$(INSTALL) -m 0644 etc/xnv/netbackd.conf.example $(DESTDIR)$(XNVCONFDIR)/netbackd.conf.example
	@if [ -e $(DESTDIR)$(XNVCONFDIR)/netbackd.conf ]; then \
	  echo "$(DESTDIR)$(XNVCONFDIR)/netbackd.conf exists: left as it is (see netbackd.conf.example)"; \
	else \
	  echo "$(INSTALL) -m 0644 etc/xnv/netbackd.conf.example $(DESTDIR)$(XNVCONFDIR)/netbackd.conf"; \
	  $(INSTALL) -m 0644 etc/xnv/netbackd.conf.example $(DESTDIR)$(XNVCONFDIR)/netbackd.conf; \
	fi
	@if [ -z "$(DESTDIR)" ]; then \
	  echo; \
	  echo "Installed.  On the backend domain (dom0 or a driver domain):"; \
	  echo "  systemctl daemon-reload"; \
	  echo "  rmmod xen-netback        # if loaded; $(MODPROBEDIR)/xnv.conf keeps it out from now on"; \
	  echo "  systemctl enable --now xnv-netbackd"; \
	fi

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,xnv-netbackd xnvctl xnv-netfront)
	rm -f $(DESTDIR)$(BINDIR)/xnv-probe
	rm -f $(DESTDIR)$(LIBDIR)/libxnv.a $(DESTDIR)$(PKGCONFIGDIR)/xnv.pc
	rm -f $(XNV_HEADERS:%=$(DESTDIR)$(INCLUDEDIR)/xnv/%)
	rmdir $(DESTDIR)$(INCLUDEDIR)/xnv 2>/dev/null || true
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,xnv-netbackd.8 xnvctl.8 xnv-netfront.8)
	rm -f $(DESTDIR)$(MANDIR)/man5/xnv-netbackd.conf.5
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,xnv-netbackd.service xnv-netfront.service)
	@# What `systemctl enable` made (the links it would remove on disable).
	@for u in xnv-netbackd.service xnv-netfront.service; do \
	  for l in $(DESTDIR)$(SYSCONFDIR)/systemd/system/*.wants/$$u; do \
	    if [ -L "$$l" ]; then echo "rm -f $$l"; rm -f "$$l"; fi; \
	  done; \
	done
	rm -f $(DESTDIR)$(MODPROBEDIR)/xnv.conf
	@if [ -e $(DESTDIR)$(XNVCONFDIR)/netbackd.conf ] && \
	    cmp -s $(DESTDIR)$(XNVCONFDIR)/netbackd.conf $(DESTDIR)$(XNVCONFDIR)/netbackd.conf.example; then \
	  echo "rm -f $(DESTDIR)$(XNVCONFDIR)/netbackd.conf   # unchanged since installation"; \
	  rm -f $(DESTDIR)$(XNVCONFDIR)/netbackd.conf; \
	elif [ -e $(DESTDIR)$(XNVCONFDIR)/netbackd.conf ]; then \
	  echo "$(DESTDIR)$(XNVCONFDIR)/netbackd.conf was changed: kept"; \
	fi
	rm -f $(DESTDIR)$(XNVCONFDIR)/netbackd.conf.example
	rmdir $(DESTDIR)$(XNVCONFDIR) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ]; then \
	  echo; \
	  echo "Removed.  A service still running stops with: systemctl stop xnv-netbackd"; \
	  echo "(or xnv-netfront); then: systemctl daemon-reload.  With no guest running,"; \
	  echo "modprobe xen-netback brings the kernel's backend back."; \
	fi
