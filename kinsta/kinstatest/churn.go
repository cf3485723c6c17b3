package kinstatest

import (
	"context"
	"fmt"
	"time"
)

// churnStatuses are the non-live statuses the churn cycles through.
var churnStatuses = [...]string{"paused", "suspended", "migrating"}

// churnState is one company's demo churn: ticks alternate between taking the next
// live site down and bringing back the non-live site that has waited longest.
type churnState struct {
	down   bool
	cursor int   // next site to consider taking down
	queue  []int // non-live sites, in the order they come back
	next   int   // index into churnStatuses
	ticks  int
	lastID int64 // of the activity log entries churn appends
}

// StartDemoChurn changes site statuses in the background until ctx ends: every
// `every`, in each company, either one live site goes non-live or the longest
// non-live one comes back to "live" (alternately), so the number of non-live
// sites stays within one of where it started. Each tick also appends one
// finished operation to the company's activity log (every third one failed),
// so that an activity collector sees new operations. It returns at once;
// every <= 0 does nothing.
func (f *Fake) StartDemoChurn(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if ctx.Err() != nil { // both were ready; select picked the tick
					return
				}
				f.churnOnce()
			}
		}
	}()
}

// churnActivities are the operations the churn appends, in turn.
var churnActivities = [...]struct{ typ, desc string }{
	{"clearCache", "Clear cache of %q (Live)"},
	{"createManualBackup", "Create manual backup of %q (Live)"},
	{"pushEnvironment", "Push %q Staging to Live"},
}

// appendChurnActivity adds one finished operation on a live site, now; called
// with f.mu held.
func (f *Fake) appendChurnActivity(cs *companyState, st *churnState) {
	if len(cs.Sites) == 0 {
		return
	}
	op := churnActivities[st.ticks%len(churnActivities)]
	site := &cs.Sites[st.ticks%len(cs.Sites)]
	st.ticks++
	st.lastID++
	a := Activity{ID: st.lastID, SiteID: site.ID, Type: op.typ, Description: fmt.Sprintf(op.desc, site.DisplayName),
		CreatedAt: f.now(), IsDone: true, HasFailed: op.typ == "pushEnvironment"}
	if a.HasFailed {
		a.PublicError = "The environment is blocked by another process. Please try again a bit later."
	}
	cs.Activities = append(cs.Activities, a)
}

func (f *Fake) churnOnce() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, cs := range f.companies {
		st := cs.churn
		if st == nil {
			st = &churnState{down: true}
			for i := range cs.Sites {
				if cs.Sites[i].Status != "live" {
					st.queue = append(st.queue, i)
				}
			}
			for _, a := range cs.Activities {
				st.lastID = max(st.lastID, a.ID)
			}
			cs.churn = st
		}
		f.appendChurnActivity(cs, st)
		if st.down {
			for range cs.Sites {
				i := st.cursor
				st.cursor = (st.cursor + 1) % len(cs.Sites)
				if cs.Sites[i].Status == "live" {
					f.setStatusLocked(siteRef{cs, i}, churnStatuses[st.next%len(churnStatuses)])
					st.next++
					st.queue = append(st.queue, i)
					break
				}
			}
		} else {
			for len(st.queue) > 0 {
				i := st.queue[0]
				st.queue = st.queue[1:]
				if cs.Sites[i].Status != "live" { // SetSiteStatus may have brought it back already
					f.setStatusLocked(siteRef{cs, i}, "live")
					break
				}
			}
		}
		st.down = !st.down
	}
}
