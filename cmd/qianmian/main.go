// Command qianmian is the one binary of the qianmian matching engine:
//
//	qianmian serve    serve the API, following events live and retraining in the background
//	qianmian demo     generate a synthetic S2b2c world, load, train and serve it
//	qianmian import   load NDJSON or CSV files of catalogue, people and events
//	qianmian train    train once and publish the model
//	qianmian eval     measure and tune models offline on interaction files or public datasets
//	qianmian bench    drive a running server with load and report throughput and latency
//	qianmian keys     issue API keys
//	qianmian migrate  create or upgrade the database
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/qianmian/qianmian"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `qianmian — people–goods matching for S2b2c platforms

Usage:
  qianmian serve   [flags]            serve the API
  qianmian demo    [--addr A] [--data DIR] [--scale small|default]
                                      generate a synthetic world, load, train, serve
  qianmian import  [--kind K] FILE... load NDJSON or CSV files (suppliers, stores, items,
                                      assortments, users, events)
  qianmian train   [flags]            train once and publish the model
  qianmian eval    --train F --test F | --dataset NAME | --report FILE [--models all] [--json]
                                      tune and measure models offline (full ranking)
  qianmian eval persona --dataset movielens-100k|dunnhumby [--json]
                                      cross-validate persona classifiers (AUC, accuracy)
  qianmian bench   recommend|ingest|mixed|freshness --url U --key K | --demo FILE
                   [--concurrency N | --rate R] [--duration D] [--json]
                                      load a running server; requests/s, latency, errors
  qianmian keys create --role operator|supplier|store|consumer [--id ID]
  qianmian migrate [flags]            create or upgrade the database

Run "qianmian COMMAND -h" for a command's flags. Every flag has a QIANMIAN_* environment default.
`

// Run runs the command line args and returns the process exit status: 0 on success, 2 for a
// mistake in the command line or its input, 1 for anything else.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(ctx, rest, stdout, stderr)
	case "demo":
		err = runDemo(ctx, rest, stdout, stderr)
	case "import":
		err = runImport(ctx, rest, stdout, stderr)
	case "train":
		err = runTrain(ctx, rest, stdout, stderr)
	case "eval":
		err = runEval(ctx, rest, stdout, stderr)
	case "bench":
		err = runBench(ctx, rest, stdout, stderr)
	case "keys":
		err = runKeys(ctx, rest, stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "qianmian: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	return exitCode(err, stderr)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, context.Canceled) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "qianmian: %s\n", ue.msg)
		return 2
	}
	if errors.Is(err, errHelp) {
		return 2
	}
	fmt.Fprintf(stderr, "qianmian: %v\n", err)
	if qianmian.ErrorCode(err) == qianmian.EINVALID {
		return 2
	}
	return 1
}
