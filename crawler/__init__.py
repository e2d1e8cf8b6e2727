"""The crawler service: Scrapy spiders fed by crawl jobs from the bus, publishing raw listings."""
