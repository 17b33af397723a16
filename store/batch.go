package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. Chat messages are many small write transactions; committing
// each one on its own costs far more than its writes (on SQLite one writer
// commits them one after another). InBatch runs such transactions together:
// while one batch is being written the next callers queue up, and then all
// of them run one after the other in one transaction that commits once.
// When a function fails, the batch runs again with each function inside a
// savepoint, so that the failure rolls back only that function's writes
// and its caller alone gets the error (functions rarely fail here: callers
// validate first, so the common batch pays for no savepoints).
//
// On SQLite one lane does it all (there is one writer anyway). On
// PostgreSQL batches of several lanes run side by side; a caller names a
// key (the conversation) and the same key always goes to the same lane, so
// two batches never wait on each other's row locks for one key.

const (
	batchMax      = 256 // functions in one transaction at most
	batchAttempts = 5   // a batch whose commit fails transiently runs again
)

// batchJob is one caller's function waiting for its batch.
type batchJob struct {
	ctx   context.Context
	fn    func(ctx context.Context) error
	after []func(ctx context.Context)
	err   error
	done  chan struct{}
	// A follower's text message, which the batch may store without fn
	// (InBatchFollowerText), and whether it did.
	text    *FollowerText
	handled bool
}

// batchLane queues jobs for one committer goroutine, started while there
// is work and ended when the queue is empty.
type batchLane struct {
	db      *DB
	mu      sync.Mutex
	queue   []*batchJob
	running bool
}

type batching struct {
	once  sync.Once
	lanes []*batchLane
	// What BatchStats reports.
	batches, functions, reruns, textFallbacks, textsStored atomic.Int64
}

// BatchStats counts what group commit has done since the store opened.
type BatchStats struct {
	Batches   int64 // transactions run (a batch run again counts once)
	Functions int64 // callers' functions and messages in them
	// Batches run again function by function, each in a savepoint,
	// because a function failed.
	Reruns int64
	// Batches whose followers' messages could not be stored together
	// (InBatchFollowerText) and ran function by function: a rise means
	// the batched statements fail.
	TextFallbacks int64
	TextsStored   int64 // followers' messages the batched statements stored
}

// BatchStats returns the counts of group commit.
func (db *DB) BatchStats() BatchStats {
	b := &db.batches
	return BatchStats{Batches: b.batches.Load(), Functions: b.functions.Load(), Reruns: b.reruns.Load(),
		TextFallbacks: b.textFallbacks.Load(), TextsStored: b.textsStored.Load()}
}

func (db *DB) batchLanes() []*batchLane {
	db.batches.once.Do(func() {
		n := 1
		if db.dialect == postgres {
			n = 4
		}
		for range n {
			db.batches.lanes = append(db.batches.lanes, &batchLane{db: db})
		}
	})
	return db.batches.lanes
}

// InBatch runs fn in a write transaction like InTx, possibly together with
// other callers' functions (see above): fn sees the effects of functions
// that ran before it in the batch, its own writes are rolled back if it
// returns an error, and InBatch returns once the batch has committed, after
// running fn's AfterCommit functions. As with InTx, fn may run more than
// once and must be safe to run again. key groups functions that touch the
// same rows (a conversation id). Inside a transaction fn joins it.
func (db *DB) InBatch(ctx context.Context, key int64, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*sql.Tx); ok {
		return fn(ctx)
	}
	return db.enqueue(ctx, key, &batchJob{ctx: ctx, fn: fn})
}

// enqueue runs j in a batch of key's lane and returns its outcome after
// running its AfterCommit functions.
func (db *DB) enqueue(ctx context.Context, key int64, j *batchJob) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lanes := db.batchLanes()
	if key < 0 {
		key = -key
	}
	lane := lanes[key%int64(len(lanes))]
	j.done = make(chan struct{})
	lane.mu.Lock()
	lane.queue = append(lane.queue, j)
	start := !lane.running
	lane.running = true
	lane.mu.Unlock()
	if start {
		go lane.run()
	}
	<-j.done
	if j.err != nil {
		return j.err
	}
	for _, f := range j.after {
		f(ctx)
	}
	return nil
}

func (l *batchLane) run() {
	for {
		l.mu.Lock()
		n := min(len(l.queue), batchMax)
		if n == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		jobs := make([]*batchJob, n)
		copy(jobs, l.queue)
		l.queue = append(l.queue[:0], l.queue[n:]...)
		l.mu.Unlock()
		l.db.runBatch(jobs)
		for _, j := range jobs {
			close(j.done)
		}
	}
}

// runBatch runs jobs in one transaction, again when its commit fails
// transiently, and leaves each job's outcome in it. The first attempt
// runs the functions one after the other with nothing around them; only
// when one fails does the batch run again with each function in a
// savepoint, so that the failure is that function's alone.
func (db *DB) runBatch(jobs []*batchJob) {
	stats := &db.batches
	stats.batches.Add(1)
	stats.functions.Add(int64(len(jobs)))
	var err error
	savepoints := false
	defer func() {
		if err == nil {
			for _, j := range jobs {
				if j.handled {
					stats.textsStored.Add(1)
				}
			}
		}
	}()
	for attempt := 0; attempt < batchAttempts; attempt++ {
		err = db.tryBatch(jobs, savepoints)
		if errors.Is(err, errTextsFailed) {
			// Function by function instead.
			stats.textFallbacks.Add(1)
			savepoints, err = true, nil
			attempt--
			continue
		}
		if errors.Is(err, errJobFailed) {
			if len(jobs) == 1 {
				// Rolled back: the function's error is the outcome, unless
				// it is worth another try (as InTx would).
				if !db.dialect.retryable(jobs[0].err) || attempt == batchAttempts-1 {
					jobs[0].after = nil
					return
				}
				time.Sleep(time.Duration(attempt+1) * 15 * time.Millisecond)
				continue
			}
			stats.reruns.Add(1)
			savepoints, err = true, nil
			attempt--
			continue
		}
		if err == nil || !db.dialect.retryable(err) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 15 * time.Millisecond)
	}
	if err != nil {
		for _, j := range jobs {
			j.err, j.after = err, nil
		}
	}
}

// errJobFailed ends a batch run without savepoints in which a function
// failed: its writes cannot be undone alone.
var errJobFailed = errors.New("store: a batched function failed")

// errTextsFailed ends a batch run whose followers' text messages could not
// be stored together (runTexts).
var errTextsFailed = errors.New("store: batched messages failed")

// tryBatch is one attempt: err is what failed the whole transaction.
func (db *DB) tryBatch(jobs []*batchJob, savepoints bool) (err error) {
	// The transaction belongs to no caller: one caller giving up must not
	// roll back the others.
	bg := context.Background()
	tx, err := db.write.BeginTx(bg, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	var texts []*batchJob
	for _, j := range jobs {
		j.err, j.after, j.handled = nil, nil, false
		if j.text != nil {
			j.text.Context, j.text.Stored, j.text.Dup = nil, nil, false
		}
		if j.err = j.ctx.Err(); j.err != nil {
			continue
		}
		if j.text != nil && !savepoints {
			texts = append(texts, j) // after the others
			continue
		}
		if !savepoints {
			if j.err = callJob(jobContext(tx, j), j.fn); j.err != nil {
				return errJobFailed
			}
			continue
		}
		// A function failing transiently (a PostgreSQL deadlock with a
		// transaction outside the batch) runs again in the same batch.
		for attempt := 0; attempt < 3; attempt++ {
			if err := db.runJob(tx, j); err != nil {
				return err
			}
			if j.err == nil || !db.dialect.retryable(j.err) {
				break
			}
		}
	}
	if len(texts) > 0 {
		if err := db.runTexts(tx, texts); errors.Is(err, errJobFailed) {
			return err
		} else if err != nil {
			return fmt.Errorf("%w: %v", errTextsFailed, err)
		}
	}
	return tx.Commit()
}

// jobContext is what a job's function runs with: the caller's values but
// not its cancellation (the statements of a batch run to the end; a
// cancelled caller was skipped before, and the SQLite driver would start a
// goroutine per statement to watch it), the batch's transaction, and the
// job's AfterCommit list.
func jobContext(tx *sql.Tx, j *batchJob) context.Context {
	return context.WithValue(context.WithValue(context.WithoutCancel(j.ctx), txKey{}, tx), afterKey{}, &j.after)
}

// runJob runs one function inside a savepoint of the batch's transaction.
// A function's own error is its job's; an error of the savepoint itself
// fails the batch.
func (db *DB) runJob(tx *sql.Tx, j *batchJob) error {
	bg := context.Background()
	if _, err := tx.ExecContext(bg, "SAVEPOINT batch_job"); err != nil {
		return err
	}
	if j.err = callJob(jobContext(tx, j), j.fn); j.err != nil {
		j.after = nil
		if _, err := tx.ExecContext(bg, "ROLLBACK TO SAVEPOINT batch_job"); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(bg, "RELEASE SAVEPOINT batch_job")
	return err
}

// callJob runs fn, turning a panic into that job's error so that one bad
// function does not take the node down with everyone's batch.
func callJob(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: batched function panicked: %v", p)
		}
	}()
	return fn(ctx)
}
