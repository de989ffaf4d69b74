package main

import (
	"context"
	"fmt"
	"log/slog"
	"os/user"
	"strconv"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/localapi"
)

// routeOf turns the config's routing rules into the runner's Route: the
// first rule whose method matches and whose wallet is empty or the
// request's wins.
func routeOf(rules []configs.Route) func(pos.Method, pos.Wallet) string {
	if len(rules) == 0 {
		return nil
	}
	return func(m pos.Method, w pos.Wallet) string {
		for _, r := range rules {
			if r.Method != string(m) {
				continue
			}
			if r.Wallet == "" || (w != "" && r.Wallet == string(w)) {
				return r.Gateway
			}
		}
		return ""
	}
}

// lanesOf maps scanners to their lanes.
func lanesOf(lanes []configs.Lane) (func(string) string, []string) {
	if len(lanes) == 0 {
		return nil, nil
	}
	of := map[string]string{}
	var names []string
	for _, l := range lanes {
		names = append(names, l.Name)
		for _, s := range l.Scanners {
			of[s] = l.Name
		}
	}
	return func(src string) string { return of[src] }, names
}

// socketPeers builds the socket's allow-list and its group id (-1: keep
// the process's).
func socketPeers(a configs.API) (func(localapi.PeerCred) bool, int, error) {
	lookupGroup := func(g string) (int, error) {
		if n, err := strconv.Atoi(g); err == nil {
			return n, nil
		}
		grp, err := user.LookupGroup(g)
		if err != nil {
			return 0, fmt.Errorf("api: group %q: %w", g, err)
		}
		return strconv.Atoi(grp.Gid)
	}
	var gids []int
	for _, g := range a.AllowGroups {
		n, err := lookupGroup(g)
		if err != nil {
			return nil, 0, err
		}
		gids = append(gids, n)
	}
	gid := -1
	if a.SocketGroup != "" {
		n, err := lookupGroup(a.SocketGroup)
		if err != nil {
			return nil, 0, err
		}
		gid = n
	}
	return localapi.AllowPeers(a.AllowUIDs, gids), gid, nil
}

// drawerSink is the print spool that also opens the cash drawer when a
// payment succeeds. It embeds the spool so the runner still finds the
// spool's ReceiptPlanner.
type drawerSink struct {
	*flows.Spool
	kick printer.DrawerKicker
	log  *slog.Logger
}

func (d drawerSink) PaymentFinal(ctx context.Context, p pos.Payment) {
	d.Spool.PaymentFinal(ctx, p)
	if p.State != pos.StateSucceeded {
		return
	}
	if err := d.kick.KickDrawer(ctx); err != nil {
		d.log.Warn("cash drawer did not open", "payment", p.ID, "err", err)
		return
	}
	d.log.Info("cash drawer opened", "payment", p.ID)
}

// drawerOpener is the API's one-method view of the drawer.
type drawerOpener struct{ k printer.DrawerKicker }

func (o drawerOpener) OpenDrawer(ctx context.Context) error { return o.k.KickDrawer(ctx) }
