// The driver runs scenarios: whoever imports it gets the scenario model and loader too.
@_exported import InsightScenario
