package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/gopherlab/gopherlab/kernel/eval"
	"github.com/gopherlab/gopherlab/kernel/history"
	"github.com/gopherlab/gopherlab/kernel/server"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// cmdKernel runs the kernel on a connection file until a shutdown_request.
// SIGINT interrupts the running cell and never stops the kernel; SIGTERM
// stops it.
func cmdKernel(args []string, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: gopherlab kernel CONNECTION_FILE")
		return 2
	}
	// Ignore SIGINT before anything else so that an interrupt sent while
	// the kernel starts cannot kill it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)

	// The evaluator redirects file descriptors 1 and 2 into cell output;
	// kernel diagnostics keep going to the original stderr.
	logger := log.New(keepStderr(stderr), "gopherlab kernel: ", log.LstdFlags|log.Lmsgprefix)

	ci, err := wire.ReadConnectionFile(args[0])
	if err != nil {
		logger.Print(err)
		return 1
	}
	var hist *history.Store
	if path, err := history.DefaultPath(); err != nil {
		logger.Printf("history kept in memory only: %v", err)
	} else if hist, err = history.Open(path); err != nil {
		logger.Printf("history kept in memory only: %v", err)
		hist = nil
	}
	if hist != nil {
		defer hist.Close()
	}

	ev := newLazyEvaluator(func() (evaluator, error) { return eval.New(eval.Options{}) })
	// Close the evaluator at exit, but do not let a cell that ignores
	// interrupts keep the process alive.
	defer func() {
		closed := make(chan struct{})
		go func() { ev.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(2 * time.Second):
			logger.Print("evaluator did not close in 2s; exiting anyway")
		}
	}()

	srv, err := server.New(ci, ev, server.Options{History: hist, Logger: logger})
	if err != nil {
		logger.Print(err)
		return 1
	}
	// Load the interpreter once the sockets are bound, while the frontend
	// connects and asks for kernel_info.
	ev.start()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go func() {
		for sig := range sigs {
			if sig == os.Interrupt {
				logger.Print("SIGINT: interrupting the running cell")
				srv.Interrupt()
				continue
			}
			logger.Printf("%v: shutting down", sig)
			stop()
		}
	}()
	watchParent(ctx, time.Second, func() {
		logger.Print("the process that started the kernel is gone: shutting down")
		stop()
	})
	restart, err := srv.Serve(ctx)
	srv.Close()
	if err != nil && ctx.Err() == nil {
		logger.Print(err)
		return 1
	}
	if restart {
		logger.Print("shutdown for restart")
	}
	return 0
}

// keepStderr returns a writer on a duplicate of file descriptor 2 when w is
// the process's stderr, so that logs survive the evaluator's redirection.
func keepStderr(w io.Writer) io.Writer {
	if w != os.Stderr {
		return w
	}
	fd, err := syscall.Dup(2)
	if err != nil {
		return w
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "stderr")
}

// watchParent calls gone once the frontend that started the kernel exits,
// so a crashed frontend or "gopherlab run" leaves no orphan kernel behind.
// Like ipykernel it acts only when the launcher set JPY_PARENT_PID (as
// jupyter_client does): if that is the parent, a change of parent means it
// exited; otherwise (a wrapper process in between) being re-parented to
// init does.
func watchParent(ctx context.Context, every time.Duration, gone func()) {
	want, err := strconv.Atoi(os.Getenv("JPY_PARENT_PID"))
	if err != nil || want <= 1 {
		return
	}
	if os.Getppid() != want {
		want = 0
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				ppid := os.Getppid()
				if (want == 0 && ppid == 1) || (want != 0 && ppid != want) {
					gone()
					return
				}
			}
		}
	}()
}
