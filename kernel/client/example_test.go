package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gopherlab/gopherlab/kernel/client"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// Connect to a running kernel through its connection file, run a cell and
// print what it produced.
func ExampleClient_Execute() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ci, err := wire.ReadConnectionFile("kernel-1234.json")
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.Dial(ctx, ci, client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.WaitReady(ctx); err != nil {
		log.Fatal(err)
	}
	res, err := c.Execute(ctx, `fmt.Println("hello")`+"\n1 + 1", client.ExecuteOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range res.Outputs {
		switch o.Type {
		case "stream":
			fmt.Print(o.Text)
		case "execute_result":
			fmt.Printf("Out[%d]: %v\n", o.ExecutionCount, o.Data["text/plain"])
		case "error":
			fmt.Println(o.EName, o.EValue)
		}
	}
}
