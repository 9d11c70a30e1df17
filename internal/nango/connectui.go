package nango

// APIURL is the API's root URL, as the Connect UI is given it.
func (c *Client) APIURL() string { return c.baseURL() }
