"Layer 3, the chat gateway: reply rules, the pipeline steps joined by queues, and the channels."
