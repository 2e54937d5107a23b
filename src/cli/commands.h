/* The command table: PS_CMD(name, one-line summary).  Keep in the order
 * `picseek help` should list them. */
PS_CMD(dataset, "Validate the annotated dataset, print its numbers, export labels")
