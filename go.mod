module github.com/posagent/posagent

go 1.26.8
